"""AWS adapters: S3, DynamoDB, Textract, Comprehend Medical (boto3 client injectable)."""
