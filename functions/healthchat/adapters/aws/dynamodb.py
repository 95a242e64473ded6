"""RecordStore over one DynamoDB table (keys ``pk``/``sk``); records are stored as a JSON string attribute.

Item layout (the table has only ``pk`` (S, HASH) and ``sk`` (S, RANGE)):

- record: ``pk=OWNER#{owner}``, ``sk=DOC#{document_id}``, ``record`` = the DocumentRecord as JSON (S),
  ``status`` (S, for scan filters), ``document_id`` (S).
- claim: ``pk=OWNER#{owner}``, ``sk=SRC#{sha256(source_key)}``, ``document_id`` (S). The source key
  holds the file name, so only its hash is stored.

Why a JSON string and not a map via TypeSerializer: it round-trips datetimes and floats exactly (no
Decimal conversion), and nothing queries inside a record; ``status`` is kept beside it for scans.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from healthchat.adapters.aws.errors import aws_errors, translate_client_error
from healthchat.adapters.memory.records import (
    check_limit,
    claim_belongs_to,
    decode_cursor,
    encode_cursor,
    record_with_updates,
)
from healthchat.domain.errors import NotFoundError, TransientError
from healthchat.domain.models import DocumentRecord, Status
from healthchat.ports import RecordPage

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

_UPDATE_ATTEMPTS = 5


def _pk(owner_id: str) -> str:
    return f"OWNER#{owner_id}"


def _doc_sk(document_id: str) -> str:
    return f"DOC#{document_id}"


def _claim_sk(source_key: str) -> str:
    return "SRC#" + hashlib.sha256(source_key.encode()).hexdigest()


def _s(value: str) -> AttributeValueTypeDef:
    return {"S": value}


def _put_if(client: DynamoDBClient, **kwargs: Any) -> bool:
    """``put_item`` with a condition: False if the condition failed, other errors translated."""
    from botocore.exceptions import ClientError

    try:
        client.put_item(**kwargs)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
            return False
        raise translate_client_error(exc) from exc
    return True


class DynamoRecordStore:
    """Document records and upload claims in a single table.

    Parameters
    ----------
    table_name:
        The table (``TABLE_NAME`` in the Lambda environment).
    boto3_client:
        A low-level ``dynamodb`` client to use (moto, Stubber); else ``boto3.client("dynamodb")``
        on first use.
    """

    def __init__(self, table_name: str, boto3_client: DynamoDBClient | None = None) -> None:
        self.table_name = table_name
        self._client = boto3_client
        self._client_lock = threading.Lock()

    @property
    def client(self) -> DynamoDBClient:
        if self._client is None:
            with self._client_lock:
                if self._client is None:
                    import boto3

                    self._client = boto3.client("dynamodb")
        return self._client

    def _item(self, record: DocumentRecord) -> dict[str, AttributeValueTypeDef]:
        return {
            "pk": _s(_pk(record.owner_id)),
            "sk": _s(_doc_sk(record.document_id)),
            "document_id": _s(record.document_id),
            "status": _s(record.status.value),
            "record": _s(record.model_dump_json()),
        }

    def put(self, record: DocumentRecord) -> None:
        with aws_errors():
            self.client.put_item(TableName=self.table_name, Item=self._item(record))

    def _get_raw(self, owner_id: str, document_id: str) -> str | None:
        with aws_errors():
            response = self.client.get_item(
                TableName=self.table_name,
                Key={"pk": _s(_pk(owner_id)), "sk": _s(_doc_sk(document_id))},
                ConsistentRead=True,
            )
        item = response.get("Item")
        return None if item is None else item["record"]["S"]

    def get(self, owner_id: str, document_id: str) -> DocumentRecord | None:
        raw = self._get_raw(owner_id, document_id)
        return None if raw is None else DocumentRecord.model_validate_json(raw)

    def update(self, owner_id: str, document_id: str, **fields: Any) -> DocumentRecord:
        """Read, change, and write back only if the stored JSON is unchanged (optimistic; retried)."""
        for _ in range(_UPDATE_ATTEMPTS):
            raw = self._get_raw(owner_id, document_id)
            if raw is None:
                raise NotFoundError()
            record = record_with_updates(DocumentRecord.model_validate_json(raw), fields)
            if _put_if(
                self.client,
                TableName=self.table_name,
                Item=self._item(record),
                ConditionExpression="#r = :old",
                ExpressionAttributeNames={"#r": "record"},
                ExpressionAttributeValues={":old": _s(raw)},
            ):
                return record
            # another writer changed (or deleted) it in between: read again
        raise TransientError("The record kept changing while it was being updated.")

    def list_owner(self, owner_id: str, limit: int = 50, cursor: str | None = None) -> RecordPage:
        check_limit(limit)
        kwargs: dict[str, Any] = {
            "TableName": self.table_name,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :doc)",
            "ExpressionAttributeValues": {":pk": _s(_pk(owner_id)), ":doc": _s("DOC#")},
            "ScanIndexForward": False,
            "ConsistentRead": True,
        }
        if cursor:
            kwargs["ExclusiveStartKey"] = {"pk": _s(_pk(owner_id)), "sk": _s(_doc_sk(decode_cursor(cursor)))}
        raws: list[str] = []
        # Ask for one extra item to know whether a next page exists; a 1 MB page may stop short, so loop.
        while len(raws) <= limit:
            kwargs["Limit"] = limit + 1 - len(raws)
            with aws_errors():
                response = self.client.query(**kwargs)
            raws.extend(item["record"]["S"] for item in response.get("Items", []))
            if "LastEvaluatedKey" not in response:
                break
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        records = [DocumentRecord.model_validate_json(raw) for raw in raws[:limit]]
        more = len(raws) > limit
        return RecordPage(records=records, cursor=encode_cursor(records[-1].document_id) if more else None)

    def scan(self, status: Status | None = None) -> Iterator[DocumentRecord]:
        kwargs: dict[str, Any] = {"TableName": self.table_name}
        if status is None:
            kwargs["FilterExpression"] = "begins_with(sk, :doc)"
            kwargs["ExpressionAttributeValues"] = {":doc": _s("DOC#")}
        else:
            kwargs["FilterExpression"] = "begins_with(sk, :doc) AND #st = :st"
            kwargs["ExpressionAttributeNames"] = {"#st": "status"}
            kwargs["ExpressionAttributeValues"] = {":doc": _s("DOC#"), ":st": _s(status.value)}
        with aws_errors():
            for page in self.client.get_paginator("scan").paginate(**kwargs):
                for item in page.get("Items", []):
                    yield DocumentRecord.model_validate_json(item["record"]["S"])

    def delete(self, owner_id: str, document_id: str) -> None:
        """Delete the record and the claims bound to it (see ``claim_belongs_to``)."""
        with aws_errors():
            self.client.delete_item(
                TableName=self.table_name, Key={"pk": _s(_pk(owner_id)), "sk": _s(_doc_sk(document_id))}
            )
            pages = self.client.get_paginator("query").paginate(
                TableName=self.table_name,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :src)",
                ExpressionAttributeValues={":pk": _s(_pk(owner_id)), ":src": _s("SRC#")},
                ProjectionExpression="pk, sk, document_id",
            )
            for page in pages:
                for item in page.get("Items", []):
                    if claim_belongs_to(item["document_id"]["S"], document_id):
                        self.client.delete_item(
                            TableName=self.table_name, Key={"pk": item["pk"], "sk": item["sk"]}
                        )

    def claim(self, owner_id: str, source_key: str, document_id: str) -> str:
        key = {"pk": _s(_pk(owner_id)), "sk": _s(_claim_sk(source_key))}
        for _ in range(_UPDATE_ATTEMPTS):
            if _put_if(
                self.client,
                TableName=self.table_name,
                Item={**key, "document_id": _s(document_id)},
                ConditionExpression="attribute_not_exists(pk)",
            ):
                return document_id
            winner = self.claimed(owner_id, source_key)
            if winner is not None:
                return winner
            # the earlier claim was deleted in between: try to claim again
        raise TransientError("The upload claim kept changing while it was being taken.")

    def claimed(self, owner_id: str, source_key: str) -> str | None:
        with aws_errors():
            response = self.client.get_item(
                TableName=self.table_name,
                Key={"pk": _s(_pk(owner_id)), "sk": _s(_claim_sk(source_key))},
                ConsistentRead=True,
            )
        item = response.get("Item")
        return None if item is None else item["document_id"]["S"]
