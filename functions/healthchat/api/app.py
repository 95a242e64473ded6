"""The HTTP API's routes: one Powertools ``APIGatewayHttpResolver`` for API Gateway and ``healthchat serve``.

Powertools' resolver is used rather than a web framework: it reads API Gateway's v2 events as they are,
validates requests against the pydantic models (``enable_validation``) and builds /openapi.json and
the Swagger UI from the same routes, with no ASGI adapter to cold-start. Routes parse, call one
``healthchat.api.service`` function and return its model; every error becomes
``{"error": {"code", "message"}}`` with a PHI-free message.

Cold start: nothing here imports boto3, LangChain, the Q&A engine, fhir.resources or the glossary;
the operations import what they need on first use.
"""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING, Annotated, Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.exceptions import NotFoundError as RouteNotFound
from aws_lambda_powertools.event_handler.openapi.exceptions import (
    RequestUnsupportedContentType,
    RequestValidationError,
)
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths

from healthchat import __version__
from healthchat.api import service
from healthchat.api.auth import owner_id
from healthchat.api.models import (
    ApiError,
    CreateDocumentRequest,
    CreateDocumentResponse,
    DocumentDetail,
    DocumentPage,
    ErrorBody,
    GlossaryTerm,
    InvalidRequest,
    NotFound,
    NotReady,
    Throttled,
    TooLarge,
    Unauthorized,
    UnsupportedType,
    openapi_responses,
)
from healthchat.domain.errors import HealthChatError, ThrottlingError
from healthchat.observability import logger, trace_handler
from healthchat.qa.models import Answer, QuestionRequest
from healthchat.wiring import services

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

TITLE = "HealthChat API"
DESCRIPTION = (
    "Upload medical documents, poll their processing status, read the results, export FHIR and ask "
    "questions. Every route but /openapi.json and /swagger needs a bearer JWT (an Amazon Cognito token "
    "in the cloud); you only ever see your own documents."
)
FHIR_JSON = "application/fhir+json"
RETRY_AFTER_SECONDS = 5
BEARER_SCHEME = "bearerAuth"

app = APIGatewayHttpResolver(enable_validation=True)
_swagger_lock = threading.Lock()
_swagger_enabled = False


def enable_swagger_on_demand(event: dict[str, Any]) -> None:
    """Register Powertools' Swagger UI route the first time /swagger is asked for.

    ``enable_swagger`` imports Powertools' OpenAPI document models (~45 ms) that no other route needs;
    registering it on demand keeps that out of every cold start of the polling function.
    """
    path = event.get("rawPath") or (event.get("requestContext") or {}).get("http", {}).get("path")
    if path != "/swagger":
        return
    global _swagger_enabled
    with _swagger_lock:
        if not _swagger_enabled:
            app.enable_swagger(
                path="/swagger",
                title=TITLE,
                version=__version__,
                description=DESCRIPTION,
                **openapi_security(),
            )
            _swagger_enabled = True


def openapi_security() -> dict[str, Any]:
    """``security_schemes`` and ``security`` for the OpenAPI document: a bearer JWT on every route.

    Applied document-wide, so it covers every operation in the schema; /openapi.json and /swagger are
    not in the schema (they need no token). Imported on use: Powertools' OpenAPI models are ~45 ms.
    """
    from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

    scheme = HTTPBearer(
        bearerFormat="JWT",
        description="An Amazon Cognito ID or access token in the cloud; `healthchat serve` in jwt mode "
        "checks the same kind of token, and in local mode accepts requests without one.",
    )
    return {"security_schemes": {BEARER_SCHEME: scheme}, "security": [{BEARER_SCHEME: []}]}


def _owner() -> str:
    return owner_id(app.current_event.raw_event, services().settings)


def _error(status: int, code: str, message: str) -> Response[Any]:
    return Response(
        status_code=status,
        content_type=content_types.APPLICATION_JSON,
        body=ErrorBody.model_validate({"error": {"code": code, "message": message}}).model_dump(),
    )


# ---- routes --------------------------------------------------------------------------------------


@app.get("/openapi.json", include_in_schema=False)
def openapi_json() -> Response[str]:
    schema = app.get_openapi_json_schema(
        title=TITLE, version=__version__, description=DESCRIPTION, **openapi_security()
    )
    return Response(status_code=200, content_type=content_types.APPLICATION_JSON, body=schema)


@app.post(
    "/documents",
    status_code=201,
    summary="Start an upload",
    description="Creates the document (status PROCESSING) and returns a URL to PUT the file's bytes to.",
    responses=openapi_responses(
        201,
        "The new document and where to upload it.",
        CreateDocumentResponse,
        Unauthorized,
        TooLarge,
        UnsupportedType,
    ),
)
def create_document(request: CreateDocumentRequest) -> CreateDocumentResponse:
    return service.create_upload(services(), _owner(), request)


@app.get(
    "/documents",
    summary="List my documents, newest first",
    responses=openapi_responses(200, "A page of documents.", DocumentPage, Unauthorized),
)
def list_documents(
    limit: Annotated[int, Query(ge=1, le=100, description="Documents per page.")] = 20,
    cursor: Annotated[str | None, Query(max_length=512, description="next_cursor of the last page.")] = None,
) -> DocumentPage:
    return service.list_documents(services(), _owner(), limit=limit, cursor=cursor)


@app.get(
    "/documents/<document_id>",
    summary="A document's status, and its result once processed",
    responses=openapi_responses(200, "The document.", DocumentDetail, Unauthorized, NotFound),
)
def get_document(document_id: str) -> DocumentDetail:
    return service.get_document(services(), _owner(), document_id)


@app.delete(
    "/documents/<document_id>",
    status_code=204,
    summary="Erase a document: its upload, every artifact and the record",
    responses=openapi_responses(204, "Erased.", None, Unauthorized, NotFound),
)
def delete_document(document_id: str) -> Response[None]:
    service.delete_document(services(), _owner(), document_id)
    return Response(status_code=204, content_type=None, body=None)


@app.get(
    "/documents/<document_id>/fhir",
    summary="The document's labs, medications and conditions as a FHIR R4 Bundle",
    responses={
        **openapi_responses(200, "", None, Unauthorized, NotFound, NotReady),
        200: {
            "description": "A FHIR R4 Bundle (type collection).",
            "content": {FHIR_JSON: {"schema": {"type": "object"}}},
        },
    },
)
def get_fhir(document_id: str) -> Response[str]:
    bundle = service.fhir_bundle(services(), _owner(), document_id)
    return Response(status_code=200, content_type=FHIR_JSON, body=json.dumps(bundle, separators=(",", ":")))


@app.post(
    "/documents/<document_id>/questions",
    summary="Ask a question about one of my documents",
    responses=openapi_responses(
        200, "The answer and its sources.", Answer, Unauthorized, NotFound, NotReady, Throttled
    ),
)
def ask_document(document_id: str, request: QuestionRequest) -> Answer:
    owner = _owner()
    return service.answer_about_document(services(), owner, document_id, request.question)


@app.post(
    "/questions",
    summary="Ask a general health question (answered from NIH MedlinePlus/MedQuAD)",
    responses=openapi_responses(200, "The answer and its sources.", Answer, Unauthorized, Throttled),
)
def ask_general(request: QuestionRequest) -> Answer:
    _owner()  # signed-in callers only
    return service.answer_general(services(), request.question)


@app.get(
    "/glossary/<term>",
    summary="A medical term in plain words",
    responses=openapi_responses(200, "The entry.", GlossaryTerm, Unauthorized, NotFound),
)
def get_glossary(term: str) -> GlossaryTerm:
    from urllib.parse import unquote

    _owner()
    return service.glossary_term(unquote(term))


# ---- errors --------------------------------------------------------------------------------------


def handle_api_error(exc: ApiError) -> Response[Any]:
    return _error(exc.status, exc.code, exc.message)


def handle_validation_error(exc: RequestValidationError) -> Response[Any]:
    """422 naming the fields at fault (``body.filename``, ``query.limit``), never their values."""
    names: list[str] = []
    for error in exc.errors():
        loc = [str(part) for part in error.get("loc", ())]
        kind = error.get("type")
        if kind == "json_invalid":
            loc = ["body (not valid JSON)"]
        elif kind == "extra_forbidden" and loc:
            loc[-1] = "(unknown field)"  # the unknown name is the client's input: do not echo it
        name = ".".join(loc) or "request"
        if name not in names:
            names.append(name)
    return _error(422, InvalidRequest.code, f"Invalid request: {', '.join(names[:10])}"[:500])


def handle_unsupported_body_type(exc: RequestUnsupportedContentType) -> Response[Any]:
    return _error(415, UnsupportedType.code, "Send the request body as application/json.")


def handle_no_route(exc: RouteNotFound) -> Response[Any]:
    return _error(404, NotFound.code, "No such resource.")


def handle_throttling(exc: ThrottlingError) -> Response[Any]:
    """503 with Retry-After: the chat model (or another service) refused for now; the caller may retry."""
    logger.warning("request throttled", extra={"error_type": type(exc).__name__})
    response = _error(Throttled.status, Throttled.code, Throttled.default_message)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def handle_domain_error(exc: HealthChatError) -> Response[Any]:
    # Our errors' messages are PHI-free by construction (a storage or FHIR validation failure).
    logger.error("request failed", extra={"error_type": type(exc).__name__})
    return _error(500, "INTERNAL", exc.message)


def handle_unexpected(exc: Exception) -> Response[Any]:
    # A library's message can quote its input: log only the type and where it was raised.
    tb = exc.__traceback__
    while tb is not None and tb.tb_next is not None:
        tb = tb.tb_next
    where = f"{tb.tb_frame.f_code.co_filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}" if tb else "?"
    logger.error("unhandled error", extra={"error_type": type(exc).__name__, "where": where})
    return _error(500, "INTERNAL", "An internal error occurred.")


# Registered by call: the decorators are untyped and would erase the handlers' signatures.
app.exception_handler(ApiError)(handle_api_error)
app.exception_handler(RequestValidationError)(handle_validation_error)
app.exception_handler(RequestUnsupportedContentType)(handle_unsupported_body_type)
app.exception_handler(ThrottlingError)(handle_throttling)  # before its base class, HealthChatError
app.exception_handler(HealthChatError)(handle_domain_error)
app.exception_handler(Exception)(handle_unexpected)
app.not_found(handle_no_route)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@trace_handler
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    enable_swagger_on_demand(event)
    result: dict[str, Any] = app.resolve(event, context)
    return result
