-- Dataset report at upload: content hashes and colour of each image, and the report itself.
ALTER TABLE "Dataset" ADD COLUMN "report" JSONB;

ALTER TABLE "DatasetImage" ADD COLUMN "contentHash" TEXT,
ADD COLUMN "grey" BOOLEAN;
