// Generated from openapi.yaml by `npm run openapi`; do not edit.
export interface paths {
    "/healthz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The process is up */
        get: operations["healthz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/readyz": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** PostgreSQL and Redis are reachable and this process is not shedding load; counts live workers */
        get: operations["readyz"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/datasets": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List datasets, newest first */
        get: operations["listDatasets"];
        put?: never;
        /**
         * Upload a labelled image dataset
         * @description A zip with one folder per class (optionally inside one top folder, optionally split into `train/` and `val/`). Every image is decoded; files that are not images are skipped and listed in `rejected`. Not a zip, unsafe paths, zip bombs, too few classes (2) or images per class: 4xx and nothing is stored. A server out of disk space answers 507 `insufficient_storage`, another disk fault 500 `storage_error`; nothing is stored either.
         */
        post: operations["uploadDataset"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/datasets/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** One dataset, with its class counts, rejected files and report */
        get: operations["getDataset"];
        put?: never;
        post?: never;
        /** Delete a dataset and its images (409 while a queued or running job uses it) */
        delete: operations["deleteDataset"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/datasets/{id}/images": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A page of a dataset's images, by class then path, with thumbnail links
         * @description Every image the upload kept (the dataset's `rejected` lists the files it skipped), ordered by class, then path in the zip; filter by `class` and `split`. A class the dataset does not have: 422 `unknown_class`, whose `classes` lists the dataset's. `split` on a dataset uploaded without train/ and val/: 422 `not_split`.
         */
        get: operations["listDatasetImages"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/datasets/{id}/images/{imageId}/thumbnail": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A thumbnail of one image (WebP), for your key only
         * @description The image rotated upright by its EXIF orientation and fit inside `size` × `size` (never enlarged), as WebP. Rendered once per image and size, then kept with the dataset (deleted with it). `ETag` and `Cache-Control: private` come with it; send the ETag back in `If-None-Match` for a 304. It needs the `Authorization` header like every /v1 route, so a browser fetches it and shows a blob: URL. 503 `busy` when this server renders too many at once, 503 `storage_unavailable` when the artifact store does not answer; both with `Retry-After`.
         */
        get: operations["getDatasetImageThumbnail"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List jobs, newest first */
        get: operations["listJobs"];
        put?: never;
        /**
         * Submit a training job
         * @description The dataset and a training spec; every spec field is optional and the job shows the spec with defaults filled in. Unknown fields are refused.
         */
        post: operations["createJob"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A job's status, progress, per-epoch history and metrics */
        get: operations["getJob"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/cancel": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /** Cancel a queued job at once, or a running one within seconds */
        post: operations["cancelJob"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/jobs/{id}/events": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A job's events as they happen (Server-Sent Events)
         * @description A `text/event-stream` of the job: each event has the `id:` of its place in the job's stream, the `event:` name of its type and, as `data:`, one `JobEvent` (see the schemas `JobStateEvent`, `JobProgressEvent`, `JobEpochEvent`, `JobReportEvent`). Without `Last-Event-ID` the job's events so far are sent first (events are kept for `GRAFT_JOB_EVENTS_TTL_HOURS` after the last one), then the new ones as they come; with it (the header, or `lastEventId` for clients that cannot set headers), only those after it, on any API replica. States, epochs and the report are all kept; of `progress`, which says where the job is now, only about the latest 10,000 (some 40 minutes of a run), so a replay of a long run shows its recent progress only. A comment line (`: heartbeat`) is sent after 15 s without events. The response ends once the job has finished and its last events (its final `state`, and its `report` when it succeeded) were sent; asked again after those, it answers 204 so that an EventSource stops. It also ends after an hour, or when the API replica shuts down: reconnect with `Last-Event-ID` to go on.
         */
        get: operations["watchJobEvents"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List trained models, newest first */
        get: operations["listModels"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A model's labels, base, both phases' metrics, what shipped and why, per-class metrics and confusion matrix */
        get: operations["getModel"];
        put?: never;
        post?: never;
        /** Delete the model and its files */
        delete: operations["deleteModel"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{id}/export": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Download the model as a zip: TF.js (the default) or ONNX, with a README
         * @description `format=tfjs` (the default): model.json, weights.bin, metadata.json and a README for plain @tensorflow/tfjs. `format=onnx`: model.onnx, metadata.json and a README for ONNX Runtime (input name and shape, preprocessing, output, Node and Python snippets); a model without a stored graph, or whose graph an older converter version wrote, is converted (and its graph stored) on export, in turn with predictions: 503 (`busy`) while the model runner is full. A model with a layer the ONNX converter does not know: 422 (`not_convertible`, the detail names it).
         */
        get: operations["exportModel"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/base-models": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** The base-model catalog, and which entry is the default */
        get: operations["listBaseModels"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/models/{id}/predict": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Classify images with the model
         * @description One image (multipart field `file`, or JSON `{"image": "<base64>"}`) answers `predictions`; several (several multipart files, or `{"images": [...]}`, at most 32) answer `results`, one per image, in order. Scores are calibrated probabilities (all classes sum to 1); `predictions` lists the top `topK` at or above `threshold`, highest first. Images are prepared exactly as in training. Not an image: 422; over 20 MiB or too many pixels: 413. Over your key's predict budget: 429; a server with all the predictions it takes in hand, or one not answered in time: 503; both say when to retry (`Retry-After`).
         */
        post: operations["predict"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List your tenant's API keys (prefix, name, created, last used, revoked) */
        get: operations["listKeys"];
        put?: never;
        /** Create an API key for your tenant; the key is shown in this response only */
        post: operations["createKey"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/keys/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        post?: never;
        /** Revoke a key at once: the next request with it is 401 (the key in use too) */
        delete: operations["revokeKey"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/usage": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * Your tenant's use and limits, for every quota and rate limit
         * @description Stock quotas (datasets, storedBytes, models, queuedJobs, concurrentJobs) show current use; limits on one dataset or one job (imagesPerDataset, epochsPerPhase, wallSeconds) show `used: null`. Over a quota, requests answer `quota_exceeded`: 403 for datasets, storedBytes and models, 413 for imagesPerDataset, 422 for epochsPerPhase, 429 for queuedJobs. `rateLimits` gives the requests your tenant may make per window, all its API keys together (`RateLimit-*` headers on every answer say what is left); over one, requests answer 429 `rate_limited` with `Retry-After`.
         */
        get: operations["getUsage"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** List your tenant's webhooks, newest first (never their secrets) */
        get: operations["listWebhooks"];
        put?: never;
        /**
         * Register a URL for your jobs' events; the signing secret is shown in this response only
         * @description Each delivery is a POST of a `WebhookPayload` (application/json) with headers `Graft-Delivery` (its id), `Graft-Event` (`job.state` or `job.report`) and `Graft-Signature: t=<unix seconds>,v1=<hex>`, where the hex is HMAC-SHA256 keyed with the secret over `<t>.<the raw body>`: recompute it, compare in constant time, and refuse old timestamps. A 2xx answer within the timeout is success; anything else (a redirect included) is retried with exponential backoff, and the delivery log says how each ended.
         */
        post: operations["createWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks/{id}": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /** A webhook: its URL, events and description (never its secret) */
        get: operations["getWebhook"];
        put?: never;
        post?: never;
        /** Delete a webhook and its delivery log; retries still queued are not sent */
        delete: operations["deleteWebhook"];
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks/{id}/enable": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * Enable a webhook again after it was disabled for failing
         * @description A webhook whose deliveries failed GRAFT_WEBHOOK_DISABLE_AFTER times in a row is disabled (`disabledAt`, `disabledReason`): it gets no new deliveries, and its pending ones fail. Fix the endpoint, then enable it: its failure count starts over and events from now on are delivered (those it missed are not). Enabling a webhook that is enabled changes nothing.
         */
        post: operations["enableWebhook"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
    "/v1/webhooks/{id}/deliveries": {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        /**
         * A webhook's deliveries, newest first: status, attempts, last answer or error
         * @description Each delivery is one event: `pending` while attempts are left, then `succeeded` (a 2xx) or `failed` (after GRAFT_WEBHOOK_ATTEMPTS attempts; at once when the URL is refused, e.g. it resolves to a private address; not sent when the webhook was disabled or your tenant had GRAFT_WEBHOOK_MAX_PENDING deliveries pending, `lastError` says which). `body` is the exact JSON POSTed.
         */
        get: operations["listWebhookDeliveries"];
        put?: never;
        post?: never;
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface webhooks {
    jobEvent: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        get?: never;
        put?: never;
        /**
         * A job's state change or report, POSTed to each of your webhooks
         * @description Verify `Graft-Signature` before trusting the body: recompute HMAC-SHA256 over `<t>.<raw body>` with the secret shown when the webhook was made, compare in constant time, and refuse timestamps older than a few minutes. Answer 2xx within 10 s; anything else is retried with exponential backoff (GRAFT_WEBHOOK_ATTEMPTS), and every attempt shows in `GET /v1/webhooks/{id}/deliveries`.
         */
        post: operations["receiveJobEvent"];
        delete?: never;
        options?: never;
        head?: never;
        patch?: never;
        trace?: never;
    };
}
export interface components {
    schemas: {
        /** @description An error (RFC 9457 problem details); some codes add fields such as `errors` */
        Problem: {
            /** @description urn:graft:problem:<code> */
            type: string;
            title: string;
            status: number;
            /** @description What went wrong and what to do, for a person */
            detail: string;
            /** @description Stable, for programs */
            code: string;
        } & {
            [key: string]: unknown;
        };
        /** @description Made at upload: warnings, not refusals. Exact duplicates (content hash), validation images identical to training images (dropped from validation when training), the same image under two classes, class imbalance, classes under 10 images, images under 112 px, mixed greyscale and colour. */
        DatasetReport: {
            images: number;
            duplicateGroups: number;
            leakedValImages: number;
            imbalanceRatio: number;
            greyImages: number;
            colourImages: number;
            smallImages: number;
            warnings: {
                code: "duplicates" | "train_val_leakage" | "conflicting_labels" | "class_imbalance" | "small_classes" | "small_images" | "mixed_colour";
                message: string;
                examples: string[];
            }[];
        };
        /** @description A labelled image dataset */
        Dataset: {
            /** Format: uuid */
            id: string;
            name: string;
            status: string;
            imageCount: number;
            split: "given" | "none";
            classes: {
                name: string;
                count: number;
            }[];
            /** @description The first 100 files that are not decodable images; skipped */
            rejected: {
                path: string;
                reason: string;
            }[];
            /** @description How many files were skipped in all */
            rejectedCount: number;
            /** @description Null for datasets uploaded before reports existed */
            report: components["schemas"]["DatasetReport"] | null;
            /** Format: date-time */
            createdAt: string;
        };
        /** @description Every field is optional; defaults are filled in and shown on the job */
        TrainingSpec: {
            baseModel?: string;
            featureExtraction?: {
                epochs?: number;
                learningRate?: number;
                batchSize?: number;
                dropout?: number;
                hiddenUnits?: number;
            };
            fineTuning?: {
                enabled?: boolean;
                epochs?: number;
                learningRate?: number;
                batchSize?: number;
                unfreezeLayers?: number;
                unfreezeFrom?: string;
                patience?: number;
            };
            augmentation?: {
                horizontalFlip?: boolean | "auto";
            };
            search?: {
                enabled?: boolean;
                folds?: number;
                hiddenUnits?: number[];
            };
            baseline?: {
                enabled?: boolean;
                allowShip?: boolean;
            };
            classWeights?: "auto" | "none" | {
                [key: string]: number;
            };
            validationSplit?: number;
            seed?: number;
        };
        /** @description A run of the job that continued from checkpoints after its worker died or shut down */
        JobResume: {
            /** @description The run that continued (1 is the first run) */
            attempt: number;
            /** @description The earlier run whose checkpoints it read */
            fromAttempt: number;
            /** @description How far the checkpoints reached: the feature cache, or a trained phase (then `epoch`) */
            stage: "features" | "featureExtraction" | "fineTuning";
            epoch: number | null;
            /** Format: date-time */
            at: string;
        };
        /** @description A training job: state, progress, per-epoch history, metrics */
        Job: {
            /** Format: uuid */
            id: string;
            status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
            datasetId: string | null;
            baseModel: string;
            spec: components["schemas"]["TrainingSpec"];
            phase: ("features" | "featureExtraction" | "fineTuning" | "export") | null;
            progress: number;
            epoch: number | null;
            epochs: number | null;
            etaSeconds: number | null;
            history: components["schemas"]["EpochRecord"][];
            metrics: components["schemas"]["TrainingSummary"] | null;
            modelId: string | null;
            error: string | null;
            backend: string | null;
            cancelRequested: boolean;
            /** @description Runs started so far: more than 1 when a worker died or shut down and another continued */
            attempt: number;
            resumes: components["schemas"]["JobResume"][];
            /** Format: date-time */
            createdAt: string;
            startedAt: string | null;
            finishedAt: string | null;
        };
        /** @description How images are prepared, exactly as the base was trained */
        Preprocessing: {
            /** @description Input height and width, pixels */
            size: number;
            resize: "cover" | "fill";
            valueRange: number[];
            channelOrder: "RGB" | "BGR";
        };
        /** @description A trained model and its evaluation */
        Model: {
            /** Format: uuid */
            id: string;
            jobId: string | null;
            datasetId: string | null;
            baseModel: string;
            labels: string[];
            inputSize: number;
            preprocessing: components["schemas"]["Preprocessing"];
            kept: "featureExtraction" | "fineTuning" | "baseline";
            keptReason: string;
            metrics: {
                accuracy: number | null;
            } & components["schemas"]["TrainingSummary"];
            /** Format: date-time */
            createdAt: string;
        };
        /** @description A pretrained base in the catalog */
        BaseModel: {
            id: string;
            description: string;
            architecture: string;
            inputSize: number;
            preprocessing: components["schemas"]["Preprocessing"];
            license: string;
            trainedOn: string;
            featureLayer: string;
            unfreezePoints: string[];
            defaultUnfreezeFrom: string;
            default: boolean;
            /** @description Where the weights come from */
            weights: string;
        };
        /** @description `predictions` for one image, `results` for several */
        PredictResponse: {
            modelId: string;
            /** @description Top classes at or above the threshold, highest calibrated probability first */
            predictions?: {
                label: string;
                score: number;
            }[];
            /** @description One per image */
            results?: {
                /** @description Top classes at or above the threshold, highest calibrated probability first */
                predictions: {
                    label: string;
                    score: number;
                }[];
            }[];
            latencyMs: number;
        };
        /** @description One image of a dataset, as uploaded */
        DatasetImage: {
            /**
             * Format: uuid
             * @description Stable for as long as the dataset exists
             */
            id: string;
            class: string;
            /** @description Null when the zip was not split (jobs split such datasets themselves) */
            split: ("train" | "val") | null;
            /** @description The file's name inside the uploaded zip */
            path: string;
            width: number;
            height: number;
            /** @description Size of the stored file */
            bytes: number;
            /** @description GET it with your API key (`/v1/datasets/{id}/images/{imageId}/thumbnail`; `?size=` for another size) */
            thumbnailUrl: string;
        };
        /** @description A page of images, by class, then path */
        DatasetImagePage: {
            items: components["schemas"]["DatasetImage"][];
            /** @description Images matching the filter, in all pages */
            total: number;
            limit: number;
            offset: number;
        };
        /** @description A model on the validation split */
        Evaluation: {
            accuracy: number;
            /** @description Mean cross-entropy */
            loss: number;
            /** @description Images evaluated */
            count: number;
            perClass: {
                label: string;
                precision: number;
                recall: number;
                f1: number;
                support: number;
            }[];
            /** @description Rows: actual class, columns: predicted class, both in label order */
            confusionMatrix: number[][];
        };
        /** @description One cross-validated head setting */
        TriedSetting: {
            /** @description Feature blocks the head reads: the base top, an earlier depth, grey 28×28 and colour 14×14 thumbnails */
            features: ("top" | "mid" | "gray" | "colour")[];
            /** @description 0: a linear head */
            hiddenUnits: number;
            dropout: number;
            l2: number;
            /** @description Mirrored training copies used */
            mirror: boolean;
            learningRate: number;
            maxEpochs: number;
            /** @description Cross-validated on the training split */
            cvAccuracy: number;
            cvLoss: number;
            /** @description Full-batch epochs at the best checkpoint */
            iterations: number;
        };
        Calibration: {
            /** @description Softmax temperature, folded into the output layer */
            temperature: number;
            fittedOn: "out-of-fold" | "held-out fold";
            /** @description Expected calibration error (15 bins) on the validation split */
            eceBefore: number;
            eceAfter: number;
        };
        /** @description How the shipped model was chosen and how it validated: both phases, the search, the raw-pixel baseline, early stopping, class weights and calibration */
        TrainingSummary: {
            kept: "featureExtraction" | "fineTuning" | "baseline";
            keptReason: string;
            evaluation: components["schemas"]["Evaluation"];
            featureExtraction: components["schemas"]["Evaluation"];
            fineTuning: components["schemas"]["Evaluation"] | null;
            unfreezeFrom: string | null;
            split: {
                method: "given" | "stratified";
                train: number;
                val: number;
                /** @description Validation images identical to a training image, left out */
                droppedFromValidation?: number;
            };
            /** @description Images that could not be read */
            skipped: {
                key: string;
                reason: string;
            }[];
            search?: {
                enabled: boolean;
                folds: number;
                seconds: number;
                chosen: components["schemas"]["TriedSetting"];
                tried: components["schemas"]["TriedSetting"][];
            };
            baseline?: {
                chosen: components["schemas"]["TriedSetting"];
                evaluation: components["schemas"]["Evaluation"];
                shipped: boolean;
            } | null;
            transferGain?: number | null;
            classWeights?: {
                [key: string]: number;
            };
            earlyStopping?: {
                featureExtraction: {
                    steps: number;
                };
                fineTuning: {
                    bestEpoch: number;
                    stoppedEarly: boolean;
                } | null;
            };
            calibration?: components["schemas"]["Calibration"];
            /** @description How the frozen outputs of the images were obtained */
            featureCache?: {
                /** @description What ran the frozen part of the base: `onnxruntime (N threads)`, `wasm (N worker threads)`, `tfjs`, `checkpoint` (a resumed run), or `none: every image came from the embedding cache` */
                engine: string;
                /** @description Images cached (validation included) */
                images: number;
                /** @description Images whose outputs came from the tenant's embedding cache (neither decoded nor extracted) */
                fromEmbeddingCache: number;
            };
            seconds: {
                featureCache: number;
                search?: number;
                featureExtraction: number;
                fineTuning: number;
                total: number;
            };
        };
        /** @description One epoch: training and held-out loss and accuracy */
        EpochRecord: {
            phase: "featureExtraction" | "fineTuning";
            epoch: number;
            loss: number | null;
            accuracy: number | null;
            valLoss: number;
            valAccuracy: number;
        };
        /** @description The job changed status (queued, running, succeeded, failed, cancelled), or a cancel was requested. A job handed back to the queue (a worker stopping) shows `queued` again. */
        JobStateEvent: {
            /** @enum {string} */
            type: "state";
            /** Format: uuid */
            jobId: string;
            /**
             * Format: date-time
             * @description When it happened
             */
            at: string;
            status: "queued" | "running" | "succeeded" | "failed" | "cancelled";
            cancelRequested: boolean;
            error: string | null;
            modelId: string | null;
        };
        /** @description Where training is: phase, epoch, batch, running loss and accuracy, and the estimated seconds left (at most a few per second). */
        JobProgressEvent: {
            /** @enum {string} */
            type: "progress";
            /** Format: uuid */
            jobId: string;
            /**
             * Format: date-time
             * @description When it happened
             */
            at: string;
            phase: "features" | "featureExtraction" | "fineTuning" | "export";
            progress: number;
            epoch: number | null;
            epochs: number | null;
            batch: number;
            batches: number;
            loss: number | null;
            accuracy: number | null;
            etaSeconds: number | null;
        };
        /** @description An epoch ended: its training and validation metrics */
        JobEpochEvent: {
            /** @enum {string} */
            type: "epoch";
            /** Format: uuid */
            jobId: string;
            /**
             * Format: date-time
             * @description When it happened
             */
            at: string;
            record: components["schemas"]["EpochRecord"];
        };
        /** @description The job succeeded: the model's id and its evaluation report */
        JobReportEvent: {
            /** @enum {string} */
            type: "report";
            /** Format: uuid */
            jobId: string;
            /**
             * Format: date-time
             * @description When it happened
             */
            at: string;
            /** Format: uuid */
            modelId: string;
            metrics: components["schemas"]["TrainingSummary"];
        };
        /** @description One event of a job, told by `type` */
        JobEvent: components["schemas"]["JobStateEvent"] | components["schemas"]["JobProgressEvent"] | components["schemas"]["JobEpochEvent"] | components["schemas"]["JobReportEvent"];
        /** @description A page, newest first */
        DatasetPage: {
            items: components["schemas"]["Dataset"][];
            /** @description Items in all pages */
            total: number;
            limit: number;
            offset: number;
        };
        /** @description A page, newest first */
        JobPage: {
            items: components["schemas"]["Job"][];
            /** @description Items in all pages */
            total: number;
            limit: number;
            offset: number;
        };
        /** @description A page, newest first */
        ModelPage: {
            items: components["schemas"]["Model"][];
            /** @description Items in all pages */
            total: number;
            limit: number;
            offset: number;
        };
        /** @description Up or down per dependency, and how many workers are alive; no names, addresses or ids (the probe needs no key) */
        Ready: {
            status: "ready" | "not_ready";
            postgres: boolean;
            redis: boolean;
            /** @description Training workers seen in the last 30 s */
            workers: number;
            /** @description This API process is shedding load (event-loop delay, heap or RSS over its limit); not ready until it recovers */
            underPressure: boolean;
        };
        /** @description An API key of your tenant (never the key itself) */
        ApiKey: {
            /** Format: uuid */
            id: string;
            /** @description The 12 characters after `graft_`: how to recognise it */
            prefix: string;
            name: string | null;
            /** Format: date-time */
            createdAt: string;
            lastUsedAt: string | null;
            revokedAt: string | null;
        };
        /** @description A new API key, shown once */
        NewApiKey: {
            /** Format: uuid */
            id: string;
            /** @description The 12 characters after `graft_`: how to recognise it */
            prefix: string;
            name: string | null;
            /** Format: date-time */
            createdAt: string;
            lastUsedAt: string | null;
            revokedAt: string | null;
            /** @description The key itself: shown in this response only, keep it */
            key: string;
        };
        /** @description One quota: its limit and your use */
        QuotaUse: {
            /** @description Your own limit if you have one, else the default */
            limit: number;
            used: number | null;
            /** @description True when the limit is set for your tenant */
            own: boolean;
        };
        /** @description One rate limit: requests per window, shared by your API keys */
        RateLimitUse: {
            /** @description Requests allowed per window, for all your keys together */
            max: number;
            /** @description The length of the fixed window */
            windowSeconds: number;
            /** @description True when the limit is set for your tenant */
            own: boolean;
        };
        /** @description Your tenant's use and limits, one entry per quota: `datasets` datasets held; `storedBytes` bytes of stored dataset images; `imagesPerDataset` images in one dataset; `concurrentJobs` jobs running at once; `queuedJobs` jobs waiting to run; `epochsPerPhase` epochs of one training phase in a job spec; `wallSeconds` seconds one job may run before it is stopped; `models` trained models held, counting those queued and running jobs will make */
        Usage: {
            tenant: string;
            quotas: {
                datasets: components["schemas"]["QuotaUse"];
                storedBytes: components["schemas"]["QuotaUse"];
                imagesPerDataset: components["schemas"]["QuotaUse"];
                concurrentJobs: components["schemas"]["QuotaUse"];
                queuedJobs: components["schemas"]["QuotaUse"];
                epochsPerPhase: components["schemas"]["QuotaUse"];
                wallSeconds: components["schemas"]["QuotaUse"];
                models: components["schemas"]["QuotaUse"];
            };
            /** @description Your rate limits (one budget for all your API keys): `default` every request not named below; `uploads` `POST /v1/datasets`; `jobs` `POST /v1/jobs`; `predict` `POST /v1/models/{id}/predict`; `thumbnails` `GET /v1/datasets/{id}/images/{imageId}/thumbnail`. Null when this server has rate limits off */
            rateLimits: {
                default: components["schemas"]["RateLimitUse"];
                uploads: components["schemas"]["RateLimitUse"];
                jobs: components["schemas"]["RateLimitUse"];
                predict: components["schemas"]["RateLimitUse"];
                thumbnails: components["schemas"]["RateLimitUse"];
            } | null;
        };
        /** @description A page of keys, newest first, revoked ones included */
        ApiKeyPage: {
            items: components["schemas"]["ApiKey"][];
            /** @description Items in all pages */
            total: number;
            limit: number;
            offset: number;
        };
        /** @description A URL your job events are POSTed to (never its secret) */
        Webhook: {
            /** Format: uuid */
            id: string;
            /** Format: uri */
            url: string;
            /** @description The job events delivered: `state` (status changes), `report` (a job succeeded) */
            events: ("state" | "report")[];
            description: string | null;
            /** Format: date-time */
            createdAt: string;
            disabledAt: string | null;
            disabledReason: string | null;
        };
        /** @description A new webhook, with its signing secret shown once */
        NewWebhook: {
            /** Format: uuid */
            id: string;
            /** Format: uri */
            url: string;
            /** @description The job events delivered: `state` (status changes), `report` (a job succeeded) */
            events: ("state" | "report")[];
            description: string | null;
            /** Format: date-time */
            createdAt: string;
            disabledAt: string | null;
            disabledReason: string | null;
            /** @description Signs every delivery (`Graft-Signature`, HMAC-SHA256): shown in this response only, keep it */
            secret: string;
        };
        /** @description One event sent to one webhook, retried with backoff until it succeeds or fails */
        WebhookDelivery: {
            /**
             * Format: uuid
             * @description Also the body's `id` and `Graft-Delivery`
             */
            id: string;
            eventType: "state" | "report";
            /** Format: uuid */
            jobId: string;
            /** @description `pending` until an attempt gets a 2xx (`succeeded`) or the attempts run out (`failed`) */
            status: "pending" | "succeeded" | "failed";
            /** @description Attempts made so far */
            attempts: number;
            lastStatusCode: number | null;
            lastError: string | null;
            /** @description The exact JSON POSTed on every attempt */
            body: string;
            /** Format: date-time */
            createdAt: string;
            deliveredAt: string | null;
        };
        /** @description What each delivery POSTs (application/json), with `Graft-Delivery`, `Graft-Event` and `Graft-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>" keyed with the secret>` headers */
        WebhookPayload: {
            /**
             * Format: uuid
             * @description The delivery: the same on every retry
             */
            id: string;
            /** @description `job.` and the event's type; also the `Graft-Event` header */
            type: "job.state" | "job.report";
            /**
             * Format: date-time
             * @description When the delivery was made
             */
            createdAt: string;
            data: components["schemas"]["JobStateEvent"] | components["schemas"]["JobReportEvent"];
        };
        /** @description A page of webhooks, newest first */
        WebhookPage: {
            items: components["schemas"]["Webhook"][];
            /** @description Items in all pages */
            total: number;
            limit: number;
            offset: number;
        };
        /** @description A page of deliveries, newest first */
        WebhookDeliveryPage: {
            items: components["schemas"]["WebhookDelivery"][];
            /** @description Items in all pages */
            total: number;
            limit: number;
            offset: number;
        };
    };
    responses: never;
    parameters: never;
    requestBodies: never;
    headers: never;
    pathItems: never;
}
export type $defs = Record<string, never>;
export interface operations {
    healthz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Up */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ok"
                     *     }
                     */
                    "application/json": {
                        /** @enum {string} */
                        status: "ok";
                    };
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    readyz: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Ready */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "ready",
                     *       "postgres": true,
                     *       "redis": true,
                     *       "workers": 2,
                     *       "underPressure": false
                     *     }
                     */
                    "application/json": components["schemas"]["Ready"];
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Not ready */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "status": "not_ready",
                     *       "postgres": true,
                     *       "redis": false,
                     *       "workers": 0,
                     *       "underPressure": false
                     *     }
                     */
                    "application/json": components["schemas"]["Ready"];
                };
            };
        };
    };
    listDatasets: {
        parameters: {
            query?: {
                limit?: number;
                offset?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "items": [
                     *         {
                     *           "id": "6f1c2a5e-3b7d-4e8f-9a01-2b3c4d5e6f70",
                     *           "name": "hymenoptera",
                     *           "status": "ready",
                     *           "imageCount": 397,
                     *           "split": "given",
                     *           "classes": [
                     *             {
                     *               "name": "ants",
                     *               "count": 194
                     *             },
                     *             {
                     *               "name": "bees",
                     *               "count": 203
                     *             }
                     *           ],
                     *           "rejected": [
                     *             {
                     *               "path": "train/ants/notes.txt",
                     *               "reason": "not a decodable image"
                     *             }
                     *           ],
                     *           "rejectedCount": 1,
                     *           "report": {
                     *             "images": 397,
                     *             "duplicateGroups": 0,
                     *             "leakedValImages": 0,
                     *             "imbalanceRatio": 1.05,
                     *             "greyImages": 2,
                     *             "colourImages": 395,
                     *             "smallImages": 0,
                     *             "warnings": [
                     *               {
                     *                 "code": "mixed_colour",
                     *                 "message": "2 of 397 images are greyscale, the rest colour",
                     *                 "examples": [
                     *                   "train/bees/2962405283_22718d9617.jpg"
                     *                 ]
                     *               }
                     *             ]
                     *           },
                     *           "createdAt": "2026-11-28T10:00:00.000Z"
                     *         }
                     *       ],
                     *       "total": 1,
                     *       "limit": 20,
                     *       "offset": 0
                     *     }
                     */
                    "application/json": components["schemas"]["DatasetPage"];
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    uploadDataset: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "multipart/form-data": {
                    /**
                     * Format: binary
                     * @description The zip, one folder per class
                     */
                    file: string;
                    /** @description Defaults to dataset-<first 8 characters of its id> */
                    name?: string;
                };
            };
        };
        responses: {
            /** @description Created */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "6f1c2a5e-3b7d-4e8f-9a01-2b3c4d5e6f70",
                     *       "name": "hymenoptera",
                     *       "status": "ready",
                     *       "imageCount": 397,
                     *       "split": "given",
                     *       "classes": [
                     *         {
                     *           "name": "ants",
                     *           "count": 194
                     *         },
                     *         {
                     *           "name": "bees",
                     *           "count": 203
                     *         }
                     *       ],
                     *       "rejected": [
                     *         {
                     *           "path": "train/ants/notes.txt",
                     *           "reason": "not a decodable image"
                     *         }
                     *       ],
                     *       "rejectedCount": 1,
                     *       "report": {
                     *         "images": 397,
                     *         "duplicateGroups": 0,
                     *         "leakedValImages": 0,
                     *         "imbalanceRatio": 1.05,
                     *         "greyImages": 2,
                     *         "colourImages": 395,
                     *         "smallImages": 0,
                     *         "warnings": [
                     *           {
                     *             "code": "mixed_colour",
                     *             "message": "2 of 397 images are greyscale, the rest colour",
                     *             "examples": [
                     *               "train/bees/2962405283_22718d9617.jpg"
                     *             ]
                     *           }
                     *         ]
                     *       },
                     *       "createdAt": "2026-11-28T10:00:00.000Z"
                     *     }
                     */
                    "application/json": components["schemas"]["Dataset"];
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Over a quota of your tenant (code `quota_exceeded`; `quota`, `limit`, `used` and `requested` say which and how far) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unsupported content type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Well-formed, but cannot be used (the `detail` says why) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The server has no disk space left to store this (code `insufficient_storage`); nothing was kept */
            507: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getDataset: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The dataset */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "6f1c2a5e-3b7d-4e8f-9a01-2b3c4d5e6f70",
                     *       "name": "hymenoptera",
                     *       "status": "ready",
                     *       "imageCount": 397,
                     *       "split": "given",
                     *       "classes": [
                     *         {
                     *           "name": "ants",
                     *           "count": 194
                     *         },
                     *         {
                     *           "name": "bees",
                     *           "count": 203
                     *         }
                     *       ],
                     *       "rejected": [
                     *         {
                     *           "path": "train/ants/notes.txt",
                     *           "reason": "not a decodable image"
                     *         }
                     *       ],
                     *       "rejectedCount": 1,
                     *       "report": {
                     *         "images": 397,
                     *         "duplicateGroups": 0,
                     *         "leakedValImages": 0,
                     *         "imbalanceRatio": 1.05,
                     *         "greyImages": 2,
                     *         "colourImages": 395,
                     *         "smallImages": 0,
                     *         "warnings": [
                     *           {
                     *             "code": "mixed_colour",
                     *             "message": "2 of 397 images are greyscale, the rest colour",
                     *             "examples": [
                     *               "train/bees/2962405283_22718d9617.jpg"
                     *             ]
                     *           }
                     *         ]
                     *       },
                     *       "createdAt": "2026-11-28T10:00:00.000Z"
                     *     }
                     */
                    "application/json": components["schemas"]["Dataset"];
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource for your tenant */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteDataset: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Done; no body */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource for your tenant */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The resource is in a state that does not allow this */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listDatasetImages: {
        parameters: {
            query?: {
                /** @description Only this class's images */
                class?: string;
                /** @description Only the images under train/ or val/ (a dataset uploaded split only) */
                split?: "train" | "val";
                limit?: number;
                offset?: number;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "items": [
                     *         {
                     *           "id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                     *           "class": "ants",
                     *           "split": "train",
                     *           "path": "hymenoptera_data/train/ants/0013035.jpg",
                     *           "width": 768,
                     *           "height": 512,
                     *           "bytes": 117624,
                     *           "thumbnailUrl": "/v1/datasets/6f1c2a5e-3b7d-4e8f-9a01-2b3c4d5e6f70/images/9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d/thumbnail"
                     *         }
                     *       ],
                     *       "total": 124,
                     *       "limit": 60,
                     *       "offset": 0
                     *     }
                     */
                    "application/json": components["schemas"]["DatasetImagePage"];
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource for your tenant */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Well-formed, but cannot be used (the `detail` says why) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getDatasetImageThumbnail: {
        parameters: {
            query?: {
                /** @description The longest edge at most, in pixels (a smaller image is not enlarged) */
                size?: 64 | 96 | 128 | 160 | 192 | 224 | 256;
            };
            header?: never;
            path: {
                id: string;
                imageId: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The thumbnail */
            200: {
                headers: {
                    /** @description The thumbnail's version; send it back in `If-None-Match` */
                    etag?: string;
                    /** @description `private, max-age=86400` */
                    "cache-control"?: string;
                    [name: string]: unknown;
                };
                content: {
                    "image/webp": string;
                };
            };
            /** @description Not modified: the ETag in `If-None-Match` is current; no body */
            304: {
                headers: {
                    /** @description The thumbnail's version; send it back in `If-None-Match` */
                    etag?: string;
                    /** @description `private, max-age=86400` */
                    "cache-control"?: string;
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource for your tenant */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listJobs: {
        parameters: {
            query?: {
                limit?: number;
                offset?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "items": [
                     *         {
                     *           "id": "0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b",
                     *           "status": "succeeded",
                     *           "datasetId": "6f1c2a5e-3b7d-4e8f-9a01-2b3c4d5e6f70",
                     *           "baseModel": "mobilenet_v2_0.35",
                     *           "spec": {
                     *             "featureExtraction": {
                     *               "epochs": 100,
                     *               "learningRate": 0.05,
                     *               "batchSize": 32,
                     *               "dropout": 0.2,
                     *               "hiddenUnits": 0
                     *             },
                     *             "fineTuning": {
                     *               "enabled": true,
                     *               "epochs": 5,
                     *               "learningRate": 0.0001,
                     *               "batchSize": 32,
                     *               "patience": 2
                     *             },
                     *             "augmentation": {
                     *               "horizontalFlip": "auto"
                     *             },
                     *             "search": {
                     *               "enabled": true,
                     *               "folds": 5,
                     *               "hiddenUnits": []
                     *             },
                     *             "baseline": {
                     *               "enabled": true,
                     *               "allowShip": true
                     *             },
                     *             "classWeights": "auto",
                     *             "validationSplit": 0.2,
                     *             "seed": 42
                     *           },
                     *           "phase": "export",
                     *           "progress": 1,
                     *           "epoch": 5,
                     *           "epochs": 5,
                     *           "etaSeconds": 0,
                     *           "history": [
                     *             {
                     *               "phase": "fineTuning",
                     *               "epoch": 1,
                     *               "loss": 0.061,
                     *               "accuracy": 0.985,
                     *               "valLoss": 0.141,
                     *               "valAccuracy": 0.939
                     *             }
                     *           ],
                     *           "metrics": {
                     *             "kept": "fineTuning",
                     *             "keptReason": "fine-tuning validated at 0.9388 accuracy (loss 0.1320), head-only at 0.9388 accuracy (loss 0.1478) (on a held-out fold of the training split, 49 images)",
                     *             "evaluation": {
                     *               "accuracy": 0.948,
                     *               "loss": 0.171,
                     *               "count": 153,
                     *               "perClass": [
                     *                 {
                     *                   "label": "ants",
                     *                   "precision": 0.948,
                     *                   "recall": 0.948,
                     *                   "f1": 0.948,
                     *                   "support": 70
                     *                 },
                     *                 {
                     *                   "label": "bees",
                     *                   "precision": 0.948,
                     *                   "recall": 0.948,
                     *                   "f1": 0.948,
                     *                   "support": 83
                     *                 }
                     *               ],
                     *               "confusionMatrix": [
                     *                 [
                     *                   66,
                     *                   4
                     *                 ],
                     *                 [
                     *                   4,
                     *                   79
                     *                 ]
                     *               ]
                     *             },
                     *             "featureExtraction": {
                     *               "accuracy": 0.928,
                     *               "loss": 0.201,
                     *               "count": 153,
                     *               "perClass": [
                     *                 {
                     *                   "label": "ants",
                     *                   "precision": 0.928,
                     *                   "recall": 0.928,
                     *                   "f1": 0.928,
                     *                   "support": 70
                     *                 },
                     *                 {
                     *                   "label": "bees",
                     *                   "precision": 0.928,
                     *                   "recall": 0.928,
                     *                   "f1": 0.928,
                     *                   "support": 83
                     *                 }
                     *               ],
                     *               "confusionMatrix": [
                     *                 [
                     *                   66,
                     *                   4
                     *                 ],
                     *                 [
                     *                   4,
                     *                   79
                     *                 ]
                     *               ]
                     *             },
                     *             "fineTuning": {
                     *               "accuracy": 0.948,
                     *               "loss": 0.171,
                     *               "count": 153,
                     *               "perClass": [
                     *                 {
                     *                   "label": "ants",
                     *                   "precision": 0.948,
                     *                   "recall": 0.948,
                     *                   "f1": 0.948,
                     *                   "support": 70
                     *                 },
                     *                 {
                     *                   "label": "bees",
                     *                   "precision": 0.948,
                     *                   "recall": 0.948,
                     *                   "f1": 0.948,
                     *                   "support": 83
                     *                 }
                     *               ],
                     *               "confusionMatrix": [
                     *                 [
                     *                   66,
                     *                   4
                     *                 ],
                     *                 [
                     *                   4,
                     *                   79
                     *                 ]
                     *               ]
                     *             },
                     *             "unfreezeFrom": "Conv_1",
                     *             "split": {
                     *               "method": "given",
                     *               "train": 244,
                     *               "val": 153,
                     *               "droppedFromValidation": 0
                     *             },
                     *             "skipped": [],
                     *             "search": {
                     *               "enabled": true,
                     *               "folds": 5,
                     *               "seconds": 3.3,
                     *               "chosen": {
                     *                 "features": [
                     *                   "top",
                     *                   "gray"
                     *                 ],
                     *                 "hiddenUnits": 0,
                     *                 "dropout": 0,
                     *                 "l2": 0.204,
                     *                 "mirror": true,
                     *                 "learningRate": 0.05,
                     *                 "maxEpochs": 100,
                     *                 "cvAccuracy": 0.898,
                     *                 "cvLoss": 0.205,
                     *                 "iterations": 100
                     *               },
                     *               "tried": [
                     *                 {
                     *                   "features": [
                     *                     "top",
                     *                     "gray"
                     *                   ],
                     *                   "hiddenUnits": 0,
                     *                   "dropout": 0,
                     *                   "l2": 0.204,
                     *                   "mirror": true,
                     *                   "learningRate": 0.05,
                     *                   "maxEpochs": 100,
                     *                   "cvAccuracy": 0.898,
                     *                   "cvLoss": 0.205,
                     *                   "iterations": 100
                     *                 }
                     *               ]
                     *             },
                     *             "baseline": {
                     *               "chosen": {
                     *                 "features": [
                     *                   "colour"
                     *                 ],
                     *                 "hiddenUnits": 0,
                     *                 "dropout": 0,
                     *                 "l2": 0.204,
                     *                 "mirror": false,
                     *                 "learningRate": 0.05,
                     *                 "maxEpochs": 100,
                     *                 "cvAccuracy": 0.669,
                     *                 "cvLoss": 0.643,
                     *                 "iterations": 100
                     *               },
                     *               "evaluation": {
                     *                 "accuracy": 0.582,
                     *                 "loss": 0.69,
                     *                 "count": 153,
                     *                 "perClass": [
                     *                   {
                     *                     "label": "ants",
                     *                     "precision": 0.582,
                     *                     "recall": 0.582,
                     *                     "f1": 0.582,
                     *                     "support": 70
                     *                   },
                     *                   {
                     *                     "label": "bees",
                     *                     "precision": 0.582,
                     *                     "recall": 0.582,
                     *                     "f1": 0.582,
                     *                     "support": 83
                     *                   }
                     *                 ],
                     *                 "confusionMatrix": [
                     *                   [
                     *                     66,
                     *                     4
                     *                   ],
                     *                   [
                     *                     4,
                     *                     79
                     *                   ]
                     *                 ]
                     *               },
                     *               "shipped": false
                     *             },
                     *             "transferGain": 0.366,
                     *             "classWeights": {
                     *               "ants": 1.0082,
                     *               "bees": 0.9919
                     *             },
                     *             "earlyStopping": {
                     *               "featureExtraction": {
                     *                 "steps": 100
                     *               },
                     *               "fineTuning": {
                     *                 "bestEpoch": 5,
                     *                 "stoppedEarly": false
                     *               }
                     *             },
                     *             "calibration": {
                     *               "temperature": 0.875,
                     *               "fittedOn": "held-out fold",
                     *               "eceBefore": 0.0457,
                     *               "eceAfter": 0.0341
                     *             },
                     *             "featureCache": {
                     *               "engine": "onnxruntime (2 threads)",
                     *               "images": 397,
                     *               "fromEmbeddingCache": 0
                     *             },
                     *             "seconds": {
                     *               "featureCache": 2.6,
                     *               "search": 2,
                     *               "featureExtraction": 2.2,
                     *               "fineTuning": 5.7,
                     *               "total": 10.7
                     *             }
                     *           },
                     *           "modelId": "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7",
                     *           "error": null,
                     *           "backend": "wasm",
                     *           "cancelRequested": false,
                     *           "attempt": 2,
                     *           "resumes": [
                     *             {
                     *               "attempt": 2,
                     *               "fromAttempt": 1,
                     *               "stage": "fineTuning",
                     *               "epoch": 3,
                     *               "at": "2026-11-28T10:01:02.000Z"
                     *             }
                     *           ],
                     *           "createdAt": "2026-11-28T10:00:00.000Z",
                     *           "startedAt": "2026-11-28T10:00:00.000Z",
                     *           "finishedAt": "2026-11-28T10:00:25.000Z"
                     *         }
                     *       ],
                     *       "total": 1,
                     *       "limit": 20,
                     *       "offset": 0
                     *     }
                     */
                    "application/json": components["schemas"]["JobPage"];
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createJob: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "datasetId": "6f1c2a5e-3b7d-4e8f-9a01-2b3c4d5e6f70",
                 *       "fineTuning": {
                 *         "epochs": 5
                 *       }
                 *     }
                 */
                "application/json": {
                    /** @description One of your datasets */
                    datasetId: string;
                    baseModel?: string;
                    featureExtraction?: {
                        epochs?: number;
                        learningRate?: number;
                        batchSize?: number;
                        dropout?: number;
                        hiddenUnits?: number;
                    };
                    fineTuning?: {
                        enabled?: boolean;
                        epochs?: number;
                        learningRate?: number;
                        batchSize?: number;
                        unfreezeLayers?: number;
                        unfreezeFrom?: string;
                        patience?: number;
                    };
                    augmentation?: {
                        horizontalFlip?: boolean | "auto";
                    };
                    search?: {
                        enabled?: boolean;
                        folds?: number;
                        hiddenUnits?: number[];
                    };
                    baseline?: {
                        enabled?: boolean;
                        allowShip?: boolean;
                    };
                    classWeights?: "auto" | "none" | {
                        [key: string]: number;
                    };
                    validationSplit?: number;
                    seed?: number;
                };
            };
        };
        responses: {
            /** @description Queued */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b",
                     *       "status": "queued",
                     *       "datasetId": "6f1c2a5e-3b7d-4e8f-9a01-2b3c4d5e6f70",
                     *       "baseModel": "mobilenet_v2_0.35",
                     *       "spec": {
                     *         "featureExtraction": {
                     *           "epochs": 100,
                     *           "learningRate": 0.05,
                     *           "batchSize": 32,
                     *           "dropout": 0.2,
                     *           "hiddenUnits": 0
                     *         },
                     *         "fineTuning": {
                     *           "enabled": true,
                     *           "epochs": 5,
                     *           "learningRate": 0.0001,
                     *           "batchSize": 32,
                     *           "patience": 2
                     *         },
                     *         "augmentation": {
                     *           "horizontalFlip": "auto"
                     *         },
                     *         "search": {
                     *           "enabled": true,
                     *           "folds": 5,
                     *           "hiddenUnits": []
                     *         },
                     *         "baseline": {
                     *           "enabled": true,
                     *           "allowShip": true
                     *         },
                     *         "classWeights": "auto",
                     *         "validationSplit": 0.2,
                     *         "seed": 42
                     *       },
                     *       "phase": "export",
                     *       "progress": 1,
                     *       "epoch": 5,
                     *       "epochs": 5,
                     *       "etaSeconds": 0,
                     *       "history": [
                     *         {
                     *           "phase": "fineTuning",
                     *           "epoch": 1,
                     *           "loss": 0.061,
                     *           "accuracy": 0.985,
                     *           "valLoss": 0.141,
                     *           "valAccuracy": 0.939
                     *         }
                     *       ],
                     *       "metrics": null,
                     *       "modelId": "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7",
                     *       "error": null,
                     *       "backend": "wasm",
                     *       "cancelRequested": false,
                     *       "attempt": 2,
                     *       "resumes": [
                     *         {
                     *           "attempt": 2,
                     *           "fromAttempt": 1,
                     *           "stage": "fineTuning",
                     *           "epoch": 3,
                     *           "at": "2026-11-28T10:01:02.000Z"
                     *         }
                     *       ],
                     *       "createdAt": "2026-11-28T10:00:00.000Z",
                     *       "startedAt": "2026-11-28T10:00:00.000Z",
                     *       "finishedAt": "2026-11-28T10:00:25.000Z"
                     *     }
                     */
                    "application/json": components["schemas"]["Job"];
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Over a quota of your tenant (code `quota_exceeded`; `quota`, `limit`, `used` and `requested` say which and how far) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Well-formed, but cannot be used (the `detail` says why) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getJob: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The job */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b",
                     *       "status": "succeeded",
                     *       "datasetId": "6f1c2a5e-3b7d-4e8f-9a01-2b3c4d5e6f70",
                     *       "baseModel": "mobilenet_v2_0.35",
                     *       "spec": {
                     *         "featureExtraction": {
                     *           "epochs": 100,
                     *           "learningRate": 0.05,
                     *           "batchSize": 32,
                     *           "dropout": 0.2,
                     *           "hiddenUnits": 0
                     *         },
                     *         "fineTuning": {
                     *           "enabled": true,
                     *           "epochs": 5,
                     *           "learningRate": 0.0001,
                     *           "batchSize": 32,
                     *           "patience": 2
                     *         },
                     *         "augmentation": {
                     *           "horizontalFlip": "auto"
                     *         },
                     *         "search": {
                     *           "enabled": true,
                     *           "folds": 5,
                     *           "hiddenUnits": []
                     *         },
                     *         "baseline": {
                     *           "enabled": true,
                     *           "allowShip": true
                     *         },
                     *         "classWeights": "auto",
                     *         "validationSplit": 0.2,
                     *         "seed": 42
                     *       },
                     *       "phase": "export",
                     *       "progress": 1,
                     *       "epoch": 5,
                     *       "epochs": 5,
                     *       "etaSeconds": 0,
                     *       "history": [
                     *         {
                     *           "phase": "fineTuning",
                     *           "epoch": 1,
                     *           "loss": 0.061,
                     *           "accuracy": 0.985,
                     *           "valLoss": 0.141,
                     *           "valAccuracy": 0.939
                     *         }
                     *       ],
                     *       "metrics": {
                     *         "kept": "fineTuning",
                     *         "keptReason": "fine-tuning validated at 0.9388 accuracy (loss 0.1320), head-only at 0.9388 accuracy (loss 0.1478) (on a held-out fold of the training split, 49 images)",
                     *         "evaluation": {
                     *           "accuracy": 0.948,
                     *           "loss": 0.171,
                     *           "count": 153,
                     *           "perClass": [
                     *             {
                     *               "label": "ants",
                     *               "precision": 0.948,
                     *               "recall": 0.948,
                     *               "f1": 0.948,
                     *               "support": 70
                     *             },
                     *             {
                     *               "label": "bees",
                     *               "precision": 0.948,
                     *               "recall": 0.948,
                     *               "f1": 0.948,
                     *               "support": 83
                     *             }
                     *           ],
                     *           "confusionMatrix": [
                     *             [
                     *               66,
                     *               4
                     *             ],
                     *             [
                     *               4,
                     *               79
                     *             ]
                     *           ]
                     *         },
                     *         "featureExtraction": {
                     *           "accuracy": 0.928,
                     *           "loss": 0.201,
                     *           "count": 153,
                     *           "perClass": [
                     *             {
                     *               "label": "ants",
                     *               "precision": 0.928,
                     *               "recall": 0.928,
                     *               "f1": 0.928,
                     *               "support": 70
                     *             },
                     *             {
                     *               "label": "bees",
                     *               "precision": 0.928,
                     *               "recall": 0.928,
                     *               "f1": 0.928,
                     *               "support": 83
                     *             }
                     *           ],
                     *           "confusionMatrix": [
                     *             [
                     *               66,
                     *               4
                     *             ],
                     *             [
                     *               4,
                     *               79
                     *             ]
                     *           ]
                     *         },
                     *         "fineTuning": {
                     *           "accuracy": 0.948,
                     *           "loss": 0.171,
                     *           "count": 153,
                     *           "perClass": [
                     *             {
                     *               "label": "ants",
                     *               "precision": 0.948,
                     *               "recall": 0.948,
                     *               "f1": 0.948,
                     *               "support": 70
                     *             },
                     *             {
                     *               "label": "bees",
                     *               "precision": 0.948,
                     *               "recall": 0.948,
                     *               "f1": 0.948,
                     *               "support": 83
                     *             }
                     *           ],
                     *           "confusionMatrix": [
                     *             [
                     *               66,
                     *               4
                     *             ],
                     *             [
                     *               4,
                     *               79
                     *             ]
                     *           ]
                     *         },
                     *         "unfreezeFrom": "Conv_1",
                     *         "split": {
                     *           "method": "given",
                     *           "train": 244,
                     *           "val": 153,
                     *           "droppedFromValidation": 0
                     *         },
                     *         "skipped": [],
                     *         "search": {
                     *           "enabled": true,
                     *           "folds": 5,
                     *           "seconds": 3.3,
                     *           "chosen": {
                     *             "features": [
                     *               "top",
                     *               "gray"
                     *             ],
                     *             "hiddenUnits": 0,
                     *             "dropout": 0,
                     *             "l2": 0.204,
                     *             "mirror": true,
                     *             "learningRate": 0.05,
                     *             "maxEpochs": 100,
                     *             "cvAccuracy": 0.898,
                     *             "cvLoss": 0.205,
                     *             "iterations": 100
                     *           },
                     *           "tried": [
                     *             {
                     *               "features": [
                     *                 "top",
                     *                 "gray"
                     *               ],
                     *               "hiddenUnits": 0,
                     *               "dropout": 0,
                     *               "l2": 0.204,
                     *               "mirror": true,
                     *               "learningRate": 0.05,
                     *               "maxEpochs": 100,
                     *               "cvAccuracy": 0.898,
                     *               "cvLoss": 0.205,
                     *               "iterations": 100
                     *             }
                     *           ]
                     *         },
                     *         "baseline": {
                     *           "chosen": {
                     *             "features": [
                     *               "colour"
                     *             ],
                     *             "hiddenUnits": 0,
                     *             "dropout": 0,
                     *             "l2": 0.204,
                     *             "mirror": false,
                     *             "learningRate": 0.05,
                     *             "maxEpochs": 100,
                     *             "cvAccuracy": 0.669,
                     *             "cvLoss": 0.643,
                     *             "iterations": 100
                     *           },
                     *           "evaluation": {
                     *             "accuracy": 0.582,
                     *             "loss": 0.69,
                     *             "count": 153,
                     *             "perClass": [
                     *               {
                     *                 "label": "ants",
                     *                 "precision": 0.582,
                     *                 "recall": 0.582,
                     *                 "f1": 0.582,
                     *                 "support": 70
                     *               },
                     *               {
                     *                 "label": "bees",
                     *                 "precision": 0.582,
                     *                 "recall": 0.582,
                     *                 "f1": 0.582,
                     *                 "support": 83
                     *               }
                     *             ],
                     *             "confusionMatrix": [
                     *               [
                     *                 66,
                     *                 4
                     *               ],
                     *               [
                     *                 4,
                     *                 79
                     *               ]
                     *             ]
                     *           },
                     *           "shipped": false
                     *         },
                     *         "transferGain": 0.366,
                     *         "classWeights": {
                     *           "ants": 1.0082,
                     *           "bees": 0.9919
                     *         },
                     *         "earlyStopping": {
                     *           "featureExtraction": {
                     *             "steps": 100
                     *           },
                     *           "fineTuning": {
                     *             "bestEpoch": 5,
                     *             "stoppedEarly": false
                     *           }
                     *         },
                     *         "calibration": {
                     *           "temperature": 0.875,
                     *           "fittedOn": "held-out fold",
                     *           "eceBefore": 0.0457,
                     *           "eceAfter": 0.0341
                     *         },
                     *         "featureCache": {
                     *           "engine": "onnxruntime (2 threads)",
                     *           "images": 397,
                     *           "fromEmbeddingCache": 0
                     *         },
                     *         "seconds": {
                     *           "featureCache": 2.6,
                     *           "search": 2,
                     *           "featureExtraction": 2.2,
                     *           "fineTuning": 5.7,
                     *           "total": 10.7
                     *         }
                     *       },
                     *       "modelId": "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7",
                     *       "error": null,
                     *       "backend": "wasm",
                     *       "cancelRequested": false,
                     *       "attempt": 2,
                     *       "resumes": [
                     *         {
                     *           "attempt": 2,
                     *           "fromAttempt": 1,
                     *           "stage": "fineTuning",
                     *           "epoch": 3,
                     *           "at": "2026-11-28T10:01:02.000Z"
                     *         }
                     *       ],
                     *       "createdAt": "2026-11-28T10:00:00.000Z",
                     *       "startedAt": "2026-11-28T10:00:00.000Z",
                     *       "finishedAt": "2026-11-28T10:00:25.000Z"
                     *     }
                     */
                    "application/json": components["schemas"]["Job"];
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource for your tenant */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    cancelJob: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Cancelled or cancelling */
            202: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b",
                     *       "status": "cancelled",
                     *       "datasetId": "6f1c2a5e-3b7d-4e8f-9a01-2b3c4d5e6f70",
                     *       "baseModel": "mobilenet_v2_0.35",
                     *       "spec": {
                     *         "featureExtraction": {
                     *           "epochs": 100,
                     *           "learningRate": 0.05,
                     *           "batchSize": 32,
                     *           "dropout": 0.2,
                     *           "hiddenUnits": 0
                     *         },
                     *         "fineTuning": {
                     *           "enabled": true,
                     *           "epochs": 5,
                     *           "learningRate": 0.0001,
                     *           "batchSize": 32,
                     *           "patience": 2
                     *         },
                     *         "augmentation": {
                     *           "horizontalFlip": "auto"
                     *         },
                     *         "search": {
                     *           "enabled": true,
                     *           "folds": 5,
                     *           "hiddenUnits": []
                     *         },
                     *         "baseline": {
                     *           "enabled": true,
                     *           "allowShip": true
                     *         },
                     *         "classWeights": "auto",
                     *         "validationSplit": 0.2,
                     *         "seed": 42
                     *       },
                     *       "phase": "export",
                     *       "progress": 1,
                     *       "epoch": 5,
                     *       "epochs": 5,
                     *       "etaSeconds": 0,
                     *       "history": [
                     *         {
                     *           "phase": "fineTuning",
                     *           "epoch": 1,
                     *           "loss": 0.061,
                     *           "accuracy": 0.985,
                     *           "valLoss": 0.141,
                     *           "valAccuracy": 0.939
                     *         }
                     *       ],
                     *       "metrics": null,
                     *       "modelId": null,
                     *       "error": null,
                     *       "backend": "wasm",
                     *       "cancelRequested": true,
                     *       "attempt": 2,
                     *       "resumes": [
                     *         {
                     *           "attempt": 2,
                     *           "fromAttempt": 1,
                     *           "stage": "fineTuning",
                     *           "epoch": 3,
                     *           "at": "2026-11-28T10:01:02.000Z"
                     *         }
                     *       ],
                     *       "createdAt": "2026-11-28T10:00:00.000Z",
                     *       "startedAt": "2026-11-28T10:00:00.000Z",
                     *       "finishedAt": "2026-11-28T10:00:25.000Z"
                     *     }
                     */
                    "application/json": components["schemas"]["Job"];
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource for your tenant */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description The resource is in a state that does not allow this */
            409: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    watchJobEvents: {
        parameters: {
            query?: {
                /**
                 * @description The id of the last event received: only those after it are sent (each part at most 2^64-1)
                 * @example 1764324000000-0
                 */
                lastEventId?: string;
            };
            header?: {
                /**
                 * @description The id of the last event received (EventSource sends it on reconnecting) (each part at most 2^64-1)
                 * @example 1764324000000-0
                 */
                "last-event-id"?: string;
            };
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The job's events: `event:` is the type (`state`, `progress`, `epoch`, `report`), `data:` one `JobEvent` as JSON, `id:` what to send back as `Last-Event-ID` */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example id: 1764324000000-0
                     *     event: progress
                     *     data: {"type":"progress","jobId":"0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b","at":"2026-11-28T10:00:00.000Z","phase":"fineTuning","progress":0.62,"epoch":3,"epochs":5,"batch":12,"batches":40,"loss":0.071,"accuracy":0.98,"etaSeconds":41}
                     *
                     *     id: 1764324004000-0
                     *     event: state
                     *     data: {"type":"state","jobId":"0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b","at":"2026-11-28T10:00:04.000Z","status":"succeeded","cancelRequested":false,"error":null,"modelId":"3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7"}
                     *
                     *     id: 1764324004000-1
                     *     event: report
                     *     data: {"type":"report","jobId":"0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b","at":"2026-11-28T10:00:04.000Z","modelId":"3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7","metrics":{"kept":"fineTuning","keptReason":"fine-tuning validated at 0.9388 accuracy (loss 0.1320), head-only at 0.9388 accuracy (loss 0.1478) (on a held-out fold of the training split, 49 images)","evaluation":{"accuracy":0.948,"loss":0.171,"count":153,"perClass":[{"label":"ants","precision":0.948,"recall":0.948,"f1":0.948,"support":70},{"label":"bees","precision":0.948,"recall":0.948,"f1":0.948,"support":83}],"confusionMatrix":[[66,4],[4,79]]},"featureExtraction":{"accuracy":0.928,"loss":0.201,"count":153,"perClass":[{"label":"ants","precision":0.928,"recall":0.928,"f1":0.928,"support":70},{"label":"bees","precision":0.928,"recall":0.928,"f1":0.928,"support":83}],"confusionMatrix":[[66,4],[4,79]]},"fineTuning":{"accuracy":0.948,"loss":0.171,"count":153,"perClass":[{"label":"ants","precision":0.948,"recall":0.948,"f1":0.948,"support":70},{"label":"bees","precision":0.948,"recall":0.948,"f1":0.948,"support":83}],"confusionMatrix":[[66,4],[4,79]]},"unfreezeFrom":"Conv_1","split":{"method":"given","train":244,"val":153,"droppedFromValidation":0},"skipped":[],"search":{"enabled":true,"folds":5,"seconds":3.3,"chosen":{"features":["top","gray"],"hiddenUnits":0,"dropout":0,"l2":0.204,"mirror":true,"learningRate":0.05,"maxEpochs":100,"cvAccuracy":0.898,"cvLoss":0.205,"iterations":100},"tried":[{"features":["top","gray"],"hiddenUnits":0,"dropout":0,"l2":0.204,"mirror":true,"learningRate":0.05,"maxEpochs":100,"cvAccuracy":0.898,"cvLoss":0.205,"iterations":100}]},"baseline":{"chosen":{"features":["colour"],"hiddenUnits":0,"dropout":0,"l2":0.204,"mirror":false,"learningRate":0.05,"maxEpochs":100,"cvAccuracy":0.669,"cvLoss":0.643,"iterations":100},"evaluation":{"accuracy":0.582,"loss":0.69,"count":153,"perClass":[{"label":"ants","precision":0.582,"recall":0.582,"f1":0.582,"support":70},{"label":"bees","precision":0.582,"recall":0.582,"f1":0.582,"support":83}],"confusionMatrix":[[66,4],[4,79]]},"shipped":false},"transferGain":0.366,"classWeights":{"ants":1.0082,"bees":0.9919},"earlyStopping":{"featureExtraction":{"steps":100},"fineTuning":{"bestEpoch":5,"stoppedEarly":false}},"calibration":{"temperature":0.875,"fittedOn":"held-out fold","eceBefore":0.0457,"eceAfter":0.0341},"featureCache":{"engine":"onnxruntime (2 threads)","images":397,"fromEmbeddingCache":0},"seconds":{"featureCache":2.6,"search":2,"featureExtraction":2.2,"fineTuning":5.7,"total":10.7}}}
                     */
                    "text/event-stream": string;
                };
            };
            /** @description The job has finished and nothing came after Last-Event-ID */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource for your tenant */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listModels: {
        parameters: {
            query?: {
                limit?: number;
                offset?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "items": [
                     *         {
                     *           "id": "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7",
                     *           "jobId": "0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b",
                     *           "datasetId": "6f1c2a5e-3b7d-4e8f-9a01-2b3c4d5e6f70",
                     *           "baseModel": "mobilenet_v2_0.35",
                     *           "labels": [
                     *             "ants",
                     *             "bees"
                     *           ],
                     *           "inputSize": 224,
                     *           "preprocessing": {
                     *             "size": 224,
                     *             "resize": "cover",
                     *             "valueRange": [
                     *               -1,
                     *               1
                     *             ],
                     *             "channelOrder": "RGB"
                     *           },
                     *           "kept": "fineTuning",
                     *           "keptReason": "fine-tuning validated at 0.9388 accuracy (loss 0.1320), head-only at 0.9388 accuracy (loss 0.1478) (on a held-out fold of the training split, 49 images)",
                     *           "metrics": {
                     *             "accuracy": 0.948,
                     *             "kept": "fineTuning",
                     *             "keptReason": "fine-tuning validated at 0.9388 accuracy (loss 0.1320), head-only at 0.9388 accuracy (loss 0.1478) (on a held-out fold of the training split, 49 images)",
                     *             "evaluation": {
                     *               "accuracy": 0.948,
                     *               "loss": 0.171,
                     *               "count": 153,
                     *               "perClass": [
                     *                 {
                     *                   "label": "ants",
                     *                   "precision": 0.948,
                     *                   "recall": 0.948,
                     *                   "f1": 0.948,
                     *                   "support": 70
                     *                 },
                     *                 {
                     *                   "label": "bees",
                     *                   "precision": 0.948,
                     *                   "recall": 0.948,
                     *                   "f1": 0.948,
                     *                   "support": 83
                     *                 }
                     *               ],
                     *               "confusionMatrix": [
                     *                 [
                     *                   66,
                     *                   4
                     *                 ],
                     *                 [
                     *                   4,
                     *                   79
                     *                 ]
                     *               ]
                     *             },
                     *             "featureExtraction": {
                     *               "accuracy": 0.928,
                     *               "loss": 0.201,
                     *               "count": 153,
                     *               "perClass": [
                     *                 {
                     *                   "label": "ants",
                     *                   "precision": 0.928,
                     *                   "recall": 0.928,
                     *                   "f1": 0.928,
                     *                   "support": 70
                     *                 },
                     *                 {
                     *                   "label": "bees",
                     *                   "precision": 0.928,
                     *                   "recall": 0.928,
                     *                   "f1": 0.928,
                     *                   "support": 83
                     *                 }
                     *               ],
                     *               "confusionMatrix": [
                     *                 [
                     *                   66,
                     *                   4
                     *                 ],
                     *                 [
                     *                   4,
                     *                   79
                     *                 ]
                     *               ]
                     *             },
                     *             "fineTuning": {
                     *               "accuracy": 0.948,
                     *               "loss": 0.171,
                     *               "count": 153,
                     *               "perClass": [
                     *                 {
                     *                   "label": "ants",
                     *                   "precision": 0.948,
                     *                   "recall": 0.948,
                     *                   "f1": 0.948,
                     *                   "support": 70
                     *                 },
                     *                 {
                     *                   "label": "bees",
                     *                   "precision": 0.948,
                     *                   "recall": 0.948,
                     *                   "f1": 0.948,
                     *                   "support": 83
                     *                 }
                     *               ],
                     *               "confusionMatrix": [
                     *                 [
                     *                   66,
                     *                   4
                     *                 ],
                     *                 [
                     *                   4,
                     *                   79
                     *                 ]
                     *               ]
                     *             },
                     *             "unfreezeFrom": "Conv_1",
                     *             "split": {
                     *               "method": "given",
                     *               "train": 244,
                     *               "val": 153,
                     *               "droppedFromValidation": 0
                     *             },
                     *             "skipped": [],
                     *             "search": {
                     *               "enabled": true,
                     *               "folds": 5,
                     *               "seconds": 3.3,
                     *               "chosen": {
                     *                 "features": [
                     *                   "top",
                     *                   "gray"
                     *                 ],
                     *                 "hiddenUnits": 0,
                     *                 "dropout": 0,
                     *                 "l2": 0.204,
                     *                 "mirror": true,
                     *                 "learningRate": 0.05,
                     *                 "maxEpochs": 100,
                     *                 "cvAccuracy": 0.898,
                     *                 "cvLoss": 0.205,
                     *                 "iterations": 100
                     *               },
                     *               "tried": [
                     *                 {
                     *                   "features": [
                     *                     "top",
                     *                     "gray"
                     *                   ],
                     *                   "hiddenUnits": 0,
                     *                   "dropout": 0,
                     *                   "l2": 0.204,
                     *                   "mirror": true,
                     *                   "learningRate": 0.05,
                     *                   "maxEpochs": 100,
                     *                   "cvAccuracy": 0.898,
                     *                   "cvLoss": 0.205,
                     *                   "iterations": 100
                     *                 }
                     *               ]
                     *             },
                     *             "baseline": {
                     *               "chosen": {
                     *                 "features": [
                     *                   "colour"
                     *                 ],
                     *                 "hiddenUnits": 0,
                     *                 "dropout": 0,
                     *                 "l2": 0.204,
                     *                 "mirror": false,
                     *                 "learningRate": 0.05,
                     *                 "maxEpochs": 100,
                     *                 "cvAccuracy": 0.669,
                     *                 "cvLoss": 0.643,
                     *                 "iterations": 100
                     *               },
                     *               "evaluation": {
                     *                 "accuracy": 0.582,
                     *                 "loss": 0.69,
                     *                 "count": 153,
                     *                 "perClass": [
                     *                   {
                     *                     "label": "ants",
                     *                     "precision": 0.582,
                     *                     "recall": 0.582,
                     *                     "f1": 0.582,
                     *                     "support": 70
                     *                   },
                     *                   {
                     *                     "label": "bees",
                     *                     "precision": 0.582,
                     *                     "recall": 0.582,
                     *                     "f1": 0.582,
                     *                     "support": 83
                     *                   }
                     *                 ],
                     *                 "confusionMatrix": [
                     *                   [
                     *                     66,
                     *                     4
                     *                   ],
                     *                   [
                     *                     4,
                     *                     79
                     *                   ]
                     *                 ]
                     *               },
                     *               "shipped": false
                     *             },
                     *             "transferGain": 0.366,
                     *             "classWeights": {
                     *               "ants": 1.0082,
                     *               "bees": 0.9919
                     *             },
                     *             "earlyStopping": {
                     *               "featureExtraction": {
                     *                 "steps": 100
                     *               },
                     *               "fineTuning": {
                     *                 "bestEpoch": 5,
                     *                 "stoppedEarly": false
                     *               }
                     *             },
                     *             "calibration": {
                     *               "temperature": 0.875,
                     *               "fittedOn": "held-out fold",
                     *               "eceBefore": 0.0457,
                     *               "eceAfter": 0.0341
                     *             },
                     *             "featureCache": {
                     *               "engine": "onnxruntime (2 threads)",
                     *               "images": 397,
                     *               "fromEmbeddingCache": 0
                     *             },
                     *             "seconds": {
                     *               "featureCache": 2.6,
                     *               "search": 2,
                     *               "featureExtraction": 2.2,
                     *               "fineTuning": 5.7,
                     *               "total": 10.7
                     *             }
                     *           },
                     *           "createdAt": "2026-11-28T10:00:00.000Z"
                     *         }
                     *       ],
                     *       "total": 1,
                     *       "limit": 20,
                     *       "offset": 0
                     *     }
                     */
                    "application/json": components["schemas"]["ModelPage"];
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getModel: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The model */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7",
                     *       "jobId": "0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b",
                     *       "datasetId": "6f1c2a5e-3b7d-4e8f-9a01-2b3c4d5e6f70",
                     *       "baseModel": "mobilenet_v2_0.35",
                     *       "labels": [
                     *         "ants",
                     *         "bees"
                     *       ],
                     *       "inputSize": 224,
                     *       "preprocessing": {
                     *         "size": 224,
                     *         "resize": "cover",
                     *         "valueRange": [
                     *           -1,
                     *           1
                     *         ],
                     *         "channelOrder": "RGB"
                     *       },
                     *       "kept": "fineTuning",
                     *       "keptReason": "fine-tuning validated at 0.9388 accuracy (loss 0.1320), head-only at 0.9388 accuracy (loss 0.1478) (on a held-out fold of the training split, 49 images)",
                     *       "metrics": {
                     *         "accuracy": 0.948,
                     *         "kept": "fineTuning",
                     *         "keptReason": "fine-tuning validated at 0.9388 accuracy (loss 0.1320), head-only at 0.9388 accuracy (loss 0.1478) (on a held-out fold of the training split, 49 images)",
                     *         "evaluation": {
                     *           "accuracy": 0.948,
                     *           "loss": 0.171,
                     *           "count": 153,
                     *           "perClass": [
                     *             {
                     *               "label": "ants",
                     *               "precision": 0.948,
                     *               "recall": 0.948,
                     *               "f1": 0.948,
                     *               "support": 70
                     *             },
                     *             {
                     *               "label": "bees",
                     *               "precision": 0.948,
                     *               "recall": 0.948,
                     *               "f1": 0.948,
                     *               "support": 83
                     *             }
                     *           ],
                     *           "confusionMatrix": [
                     *             [
                     *               66,
                     *               4
                     *             ],
                     *             [
                     *               4,
                     *               79
                     *             ]
                     *           ]
                     *         },
                     *         "featureExtraction": {
                     *           "accuracy": 0.928,
                     *           "loss": 0.201,
                     *           "count": 153,
                     *           "perClass": [
                     *             {
                     *               "label": "ants",
                     *               "precision": 0.928,
                     *               "recall": 0.928,
                     *               "f1": 0.928,
                     *               "support": 70
                     *             },
                     *             {
                     *               "label": "bees",
                     *               "precision": 0.928,
                     *               "recall": 0.928,
                     *               "f1": 0.928,
                     *               "support": 83
                     *             }
                     *           ],
                     *           "confusionMatrix": [
                     *             [
                     *               66,
                     *               4
                     *             ],
                     *             [
                     *               4,
                     *               79
                     *             ]
                     *           ]
                     *         },
                     *         "fineTuning": {
                     *           "accuracy": 0.948,
                     *           "loss": 0.171,
                     *           "count": 153,
                     *           "perClass": [
                     *             {
                     *               "label": "ants",
                     *               "precision": 0.948,
                     *               "recall": 0.948,
                     *               "f1": 0.948,
                     *               "support": 70
                     *             },
                     *             {
                     *               "label": "bees",
                     *               "precision": 0.948,
                     *               "recall": 0.948,
                     *               "f1": 0.948,
                     *               "support": 83
                     *             }
                     *           ],
                     *           "confusionMatrix": [
                     *             [
                     *               66,
                     *               4
                     *             ],
                     *             [
                     *               4,
                     *               79
                     *             ]
                     *           ]
                     *         },
                     *         "unfreezeFrom": "Conv_1",
                     *         "split": {
                     *           "method": "given",
                     *           "train": 244,
                     *           "val": 153,
                     *           "droppedFromValidation": 0
                     *         },
                     *         "skipped": [],
                     *         "search": {
                     *           "enabled": true,
                     *           "folds": 5,
                     *           "seconds": 3.3,
                     *           "chosen": {
                     *             "features": [
                     *               "top",
                     *               "gray"
                     *             ],
                     *             "hiddenUnits": 0,
                     *             "dropout": 0,
                     *             "l2": 0.204,
                     *             "mirror": true,
                     *             "learningRate": 0.05,
                     *             "maxEpochs": 100,
                     *             "cvAccuracy": 0.898,
                     *             "cvLoss": 0.205,
                     *             "iterations": 100
                     *           },
                     *           "tried": [
                     *             {
                     *               "features": [
                     *                 "top",
                     *                 "gray"
                     *               ],
                     *               "hiddenUnits": 0,
                     *               "dropout": 0,
                     *               "l2": 0.204,
                     *               "mirror": true,
                     *               "learningRate": 0.05,
                     *               "maxEpochs": 100,
                     *               "cvAccuracy": 0.898,
                     *               "cvLoss": 0.205,
                     *               "iterations": 100
                     *             }
                     *           ]
                     *         },
                     *         "baseline": {
                     *           "chosen": {
                     *             "features": [
                     *               "colour"
                     *             ],
                     *             "hiddenUnits": 0,
                     *             "dropout": 0,
                     *             "l2": 0.204,
                     *             "mirror": false,
                     *             "learningRate": 0.05,
                     *             "maxEpochs": 100,
                     *             "cvAccuracy": 0.669,
                     *             "cvLoss": 0.643,
                     *             "iterations": 100
                     *           },
                     *           "evaluation": {
                     *             "accuracy": 0.582,
                     *             "loss": 0.69,
                     *             "count": 153,
                     *             "perClass": [
                     *               {
                     *                 "label": "ants",
                     *                 "precision": 0.582,
                     *                 "recall": 0.582,
                     *                 "f1": 0.582,
                     *                 "support": 70
                     *               },
                     *               {
                     *                 "label": "bees",
                     *                 "precision": 0.582,
                     *                 "recall": 0.582,
                     *                 "f1": 0.582,
                     *                 "support": 83
                     *               }
                     *             ],
                     *             "confusionMatrix": [
                     *               [
                     *                 66,
                     *                 4
                     *               ],
                     *               [
                     *                 4,
                     *                 79
                     *               ]
                     *             ]
                     *           },
                     *           "shipped": false
                     *         },
                     *         "transferGain": 0.366,
                     *         "classWeights": {
                     *           "ants": 1.0082,
                     *           "bees": 0.9919
                     *         },
                     *         "earlyStopping": {
                     *           "featureExtraction": {
                     *             "steps": 100
                     *           },
                     *           "fineTuning": {
                     *             "bestEpoch": 5,
                     *             "stoppedEarly": false
                     *           }
                     *         },
                     *         "calibration": {
                     *           "temperature": 0.875,
                     *           "fittedOn": "held-out fold",
                     *           "eceBefore": 0.0457,
                     *           "eceAfter": 0.0341
                     *         },
                     *         "featureCache": {
                     *           "engine": "onnxruntime (2 threads)",
                     *           "images": 397,
                     *           "fromEmbeddingCache": 0
                     *         },
                     *         "seconds": {
                     *           "featureCache": 2.6,
                     *           "search": 2,
                     *           "featureExtraction": 2.2,
                     *           "fineTuning": 5.7,
                     *           "total": 10.7
                     *         }
                     *       },
                     *       "createdAt": "2026-11-28T10:00:00.000Z"
                     *     }
                     */
                    "application/json": components["schemas"]["Model"];
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource for your tenant */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteModel: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Done; no body */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource for your tenant */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    exportModel: {
        parameters: {
            query?: {
                /** @description `tfjs`: model.json + weights.bin (TF.js LayersModel); `onnx`: model.onnx (ONNX opset 13, NHWC float32 input, softmax output), for ONNX Runtime */
                format?: "tfjs" | "onnx";
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The zip; plain @tensorflow/tfjs, or ONNX Runtime for format=onnx, runs it (see its README) */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/zip": string;
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource for your tenant */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Well-formed, but cannot be used (the `detail` says why) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listBaseModels: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The catalog */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "default": "mobilenet_v2_0.35",
                     *       "items": [
                     *         {
                     *           "id": "mobilenet_v2_0.35",
                     *           "description": "Keras MobileNetV2 (alpha 0.35, 224 px, no top), ImageNet weights, bundled with Graft: works offline (the default)",
                     *           "architecture": "MobileNetV2",
                     *           "inputSize": 224,
                     *           "preprocessing": {
                     *             "size": 224,
                     *             "resize": "cover",
                     *             "valueRange": [
                     *               -1,
                     *               1
                     *             ],
                     *             "channelOrder": "RGB"
                     *           },
                     *           "license": "Apache-2.0 (Keras Applications weights)",
                     *           "trainedOn": "ImageNet (ILSVRC-2012, 1,000 classes)",
                     *           "featureLayer": "out_relu",
                     *           "unfreezePoints": [
                     *             "Conv_1",
                     *             "block_16_expand",
                     *             "block_15_expand",
                     *             "block_14_expand",
                     *             "block_13_expand",
                     *             "block_12_expand",
                     *             "block_11_expand",
                     *             "block_10_expand",
                     *             "block_9_expand",
                     *             "block_8_expand",
                     *             "block_7_expand",
                     *             "block_6_expand",
                     *             "block_5_expand",
                     *             "block_4_expand",
                     *             "block_3_expand",
                     *             "block_2_expand",
                     *             "block_1_expand"
                     *           ],
                     *           "defaultUnfreezeFrom": "Conv_1",
                     *           "default": true,
                     *           "weights": "bundled (models/mobilenet_v2_0.35_224_imagenet; public copy: https://storage.googleapis.com/teachable-machine-models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top/model.json)"
                     *         },
                     *         {
                     *           "id": "nsfwjs_mobilenet_v2",
                     *           "description": "Keras MobileNetV2 (alpha 1.0, 224 px) bundled in the nsfwjs npm package: works offline, but its upper blocks were fine-tuned for NSFW detection, so it transfers worse than the ImageNet default to most data (hymenoptera: 0.82 vs 0.93 validation accuracy)",
                     *           "architecture": "MobileNetV2",
                     *           "inputSize": 224,
                     *           "preprocessing": {
                     *             "size": 224,
                     *             "resize": "cover",
                     *             "valueRange": [
                     *               0,
                     *               1
                     *             ],
                     *             "channelOrder": "RGB"
                     *           },
                     *           "license": "MIT (nsfwjs 4.3.0)",
                     *           "trainedOn": "ImageNet-initialised, then its upper blocks fine-tuned by the nsfwjs authors on a 5-class NSFW task (drawings, hentai, neutral, porn, sexy); its weights are 8-bit quantised. Generic features are best below those blocks, hence the cut at block_13_expand_relu.",
                     *           "featureLayer": "block_13_expand_relu",
                     *           "unfreezePoints": [
                     *             "Conv_1",
                     *             "block_16_expand",
                     *             "block_15_expand",
                     *             "block_14_expand",
                     *             "block_13_expand",
                     *             "block_12_expand",
                     *             "block_11_expand",
                     *             "block_10_expand",
                     *             "block_9_expand",
                     *             "block_8_expand",
                     *             "block_7_expand",
                     *             "block_6_expand",
                     *             "block_5_expand",
                     *             "block_4_expand",
                     *             "block_3_expand",
                     *             "block_2_expand",
                     *             "block_1_expand"
                     *           ],
                     *           "defaultUnfreezeFrom": "block_13_expand",
                     *           "default": false,
                     *           "weights": "npm:nsfwjs"
                     *         },
                     *         {
                     *           "id": "mobilenet_v2_0.50",
                     *           "description": "Keras MobileNetV2 (alpha 0.50, 224 px, no top) as used by Teachable Machine",
                     *           "architecture": "MobileNetV2",
                     *           "inputSize": 224,
                     *           "preprocessing": {
                     *             "size": 224,
                     *             "resize": "cover",
                     *             "valueRange": [
                     *               -1,
                     *               1
                     *             ],
                     *             "channelOrder": "RGB"
                     *           },
                     *           "license": "Apache-2.0 (Keras Applications weights)",
                     *           "trainedOn": "ImageNet (ILSVRC-2012, 1,000 classes)",
                     *           "featureLayer": "out_relu",
                     *           "unfreezePoints": [
                     *             "Conv_1",
                     *             "block_16_expand",
                     *             "block_15_expand",
                     *             "block_14_expand",
                     *             "block_13_expand",
                     *             "block_12_expand",
                     *             "block_11_expand",
                     *             "block_10_expand",
                     *             "block_9_expand",
                     *             "block_8_expand",
                     *             "block_7_expand",
                     *             "block_6_expand",
                     *             "block_5_expand",
                     *             "block_4_expand",
                     *             "block_3_expand",
                     *             "block_2_expand",
                     *             "block_1_expand"
                     *           ],
                     *           "defaultUnfreezeFrom": "Conv_1",
                     *           "default": false,
                     *           "weights": "https://storage.googleapis.com/teachable-machine-models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.50_224_no_top/model.json"
                     *         },
                     *         {
                     *           "id": "mobilenet_v2_0.75",
                     *           "description": "Keras MobileNetV2 (alpha 0.75, 224 px, no top) as used by Teachable Machine",
                     *           "architecture": "MobileNetV2",
                     *           "inputSize": 224,
                     *           "preprocessing": {
                     *             "size": 224,
                     *             "resize": "cover",
                     *             "valueRange": [
                     *               -1,
                     *               1
                     *             ],
                     *             "channelOrder": "RGB"
                     *           },
                     *           "license": "Apache-2.0 (Keras Applications weights)",
                     *           "trainedOn": "ImageNet (ILSVRC-2012, 1,000 classes)",
                     *           "featureLayer": "out_relu",
                     *           "unfreezePoints": [
                     *             "Conv_1",
                     *             "block_16_expand",
                     *             "block_15_expand",
                     *             "block_14_expand",
                     *             "block_13_expand",
                     *             "block_12_expand",
                     *             "block_11_expand",
                     *             "block_10_expand",
                     *             "block_9_expand",
                     *             "block_8_expand",
                     *             "block_7_expand",
                     *             "block_6_expand",
                     *             "block_5_expand",
                     *             "block_4_expand",
                     *             "block_3_expand",
                     *             "block_2_expand",
                     *             "block_1_expand"
                     *           ],
                     *           "defaultUnfreezeFrom": "Conv_1",
                     *           "default": false,
                     *           "weights": "https://storage.googleapis.com/teachable-machine-models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.75_224_no_top/model.json"
                     *         },
                     *         {
                     *           "id": "mobilenet_v2_1.00",
                     *           "description": "Keras MobileNetV2 (alpha 1.00, 224 px, no top) as used by Teachable Machine",
                     *           "architecture": "MobileNetV2",
                     *           "inputSize": 224,
                     *           "preprocessing": {
                     *             "size": 224,
                     *             "resize": "cover",
                     *             "valueRange": [
                     *               -1,
                     *               1
                     *             ],
                     *             "channelOrder": "RGB"
                     *           },
                     *           "license": "Apache-2.0 (Keras Applications weights)",
                     *           "trainedOn": "ImageNet (ILSVRC-2012, 1,000 classes)",
                     *           "featureLayer": "out_relu",
                     *           "unfreezePoints": [
                     *             "Conv_1",
                     *             "block_16_expand",
                     *             "block_15_expand",
                     *             "block_14_expand",
                     *             "block_13_expand",
                     *             "block_12_expand",
                     *             "block_11_expand",
                     *             "block_10_expand",
                     *             "block_9_expand",
                     *             "block_8_expand",
                     *             "block_7_expand",
                     *             "block_6_expand",
                     *             "block_5_expand",
                     *             "block_4_expand",
                     *             "block_3_expand",
                     *             "block_2_expand",
                     *             "block_1_expand"
                     *           ],
                     *           "defaultUnfreezeFrom": "Conv_1",
                     *           "default": false,
                     *           "weights": "https://storage.googleapis.com/teachable-machine-models/mobilenet_v2_weights_tf_dim_ordering_tf_kernels_1.00_224_no_top/model.json"
                     *         },
                     *         {
                     *           "id": "mobilenet_v1_0.25",
                     *           "description": "Keras MobileNet V1 (alpha 0.25, 224 px, with ImageNet top) from tfjs-models",
                     *           "architecture": "MobileNetV1",
                     *           "inputSize": 224,
                     *           "preprocessing": {
                     *             "size": 224,
                     *             "resize": "cover",
                     *             "valueRange": [
                     *               -1,
                     *               1
                     *             ],
                     *             "channelOrder": "RGB"
                     *           },
                     *           "license": "Apache-2.0 (Keras Applications weights)",
                     *           "trainedOn": "ImageNet (ILSVRC-2012, 1,000 classes)",
                     *           "featureLayer": "conv_pw_13_relu",
                     *           "unfreezePoints": [
                     *             "conv_pw_13",
                     *             "conv_dw_13",
                     *             "conv_pw_12",
                     *             "conv_dw_12",
                     *             "conv_pw_11",
                     *             "conv_dw_11",
                     *             "conv_pw_10",
                     *             "conv_dw_10",
                     *             "conv_pw_9",
                     *             "conv_dw_9",
                     *             "conv_pw_8",
                     *             "conv_dw_8",
                     *             "conv_pw_7",
                     *             "conv_dw_7",
                     *             "conv_pw_6",
                     *             "conv_dw_6",
                     *             "conv_pw_5",
                     *             "conv_dw_5",
                     *             "conv_pw_4",
                     *             "conv_dw_4",
                     *             "conv_pw_3",
                     *             "conv_dw_3",
                     *             "conv_pw_2",
                     *             "conv_dw_2",
                     *             "conv_pw_1",
                     *             "conv_dw_1"
                     *           ],
                     *           "defaultUnfreezeFrom": "conv_pw_13",
                     *           "default": false,
                     *           "weights": "https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_0.25_224/model.json"
                     *         },
                     *         {
                     *           "id": "mobilenet_v1_0.50",
                     *           "description": "Keras MobileNet V1 (alpha 0.50, 224 px, with ImageNet top) from tfjs-models",
                     *           "architecture": "MobileNetV1",
                     *           "inputSize": 224,
                     *           "preprocessing": {
                     *             "size": 224,
                     *             "resize": "cover",
                     *             "valueRange": [
                     *               -1,
                     *               1
                     *             ],
                     *             "channelOrder": "RGB"
                     *           },
                     *           "license": "Apache-2.0 (Keras Applications weights)",
                     *           "trainedOn": "ImageNet (ILSVRC-2012, 1,000 classes)",
                     *           "featureLayer": "conv_pw_13_relu",
                     *           "unfreezePoints": [
                     *             "conv_pw_13",
                     *             "conv_dw_13",
                     *             "conv_pw_12",
                     *             "conv_dw_12",
                     *             "conv_pw_11",
                     *             "conv_dw_11",
                     *             "conv_pw_10",
                     *             "conv_dw_10",
                     *             "conv_pw_9",
                     *             "conv_dw_9",
                     *             "conv_pw_8",
                     *             "conv_dw_8",
                     *             "conv_pw_7",
                     *             "conv_dw_7",
                     *             "conv_pw_6",
                     *             "conv_dw_6",
                     *             "conv_pw_5",
                     *             "conv_dw_5",
                     *             "conv_pw_4",
                     *             "conv_dw_4",
                     *             "conv_pw_3",
                     *             "conv_dw_3",
                     *             "conv_pw_2",
                     *             "conv_dw_2",
                     *             "conv_pw_1",
                     *             "conv_dw_1"
                     *           ],
                     *           "defaultUnfreezeFrom": "conv_pw_13",
                     *           "default": false,
                     *           "weights": "https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_0.50_224/model.json"
                     *         },
                     *         {
                     *           "id": "mobilenet_v1_1.00",
                     *           "description": "Keras MobileNet V1 (alpha 1.00, 224 px, with ImageNet top) from tfjs-models",
                     *           "architecture": "MobileNetV1",
                     *           "inputSize": 224,
                     *           "preprocessing": {
                     *             "size": 224,
                     *             "resize": "cover",
                     *             "valueRange": [
                     *               -1,
                     *               1
                     *             ],
                     *             "channelOrder": "RGB"
                     *           },
                     *           "license": "Apache-2.0 (Keras Applications weights)",
                     *           "trainedOn": "ImageNet (ILSVRC-2012, 1,000 classes)",
                     *           "featureLayer": "conv_pw_13_relu",
                     *           "unfreezePoints": [
                     *             "conv_pw_13",
                     *             "conv_dw_13",
                     *             "conv_pw_12",
                     *             "conv_dw_12",
                     *             "conv_pw_11",
                     *             "conv_dw_11",
                     *             "conv_pw_10",
                     *             "conv_dw_10",
                     *             "conv_pw_9",
                     *             "conv_dw_9",
                     *             "conv_pw_8",
                     *             "conv_dw_8",
                     *             "conv_pw_7",
                     *             "conv_dw_7",
                     *             "conv_pw_6",
                     *             "conv_dw_6",
                     *             "conv_pw_5",
                     *             "conv_dw_5",
                     *             "conv_pw_4",
                     *             "conv_dw_4",
                     *             "conv_pw_3",
                     *             "conv_dw_3",
                     *             "conv_pw_2",
                     *             "conv_dw_2",
                     *             "conv_pw_1",
                     *             "conv_dw_1"
                     *           ],
                     *           "defaultUnfreezeFrom": "conv_pw_13",
                     *           "default": false,
                     *           "weights": "https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_1.0_224/model.json"
                     *         }
                     *       ]
                     *     }
                     */
                    "application/json": {
                        default: string;
                        items: components["schemas"]["BaseModel"][];
                    };
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    predict: {
        parameters: {
            query?: {
                topK?: number;
                threshold?: number;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "image": "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAIAAACQd1PeAAAADElEQVR4nGP4z8AAAAMBAQDJ/pLvAAAAAElFTkSuQmCC"
                 *     }
                 */
                "application/json": {
                    /** @description One image, base64 (a data: URL prefix is fine) */
                    image?: string;
                    /** @description At most 32 images, base64 */
                    images?: string[];
                };
                "multipart/form-data": {
                    /** @description One or more images (repeat the field) */
                    file: string[];
                };
            };
        };
        responses: {
            /** @description Predictions */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "modelId": "3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7",
                     *       "predictions": [
                     *         {
                     *           "label": "bees",
                     *           "score": 0.97
                     *         },
                     *         {
                     *           "label": "ants",
                     *           "score": 0.03
                     *         }
                     *       ],
                     *       "latencyMs": 24.6
                     *     }
                     */
                    "application/json": components["schemas"]["PredictResponse"];
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource for your tenant */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too large */
            413: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Unsupported content type */
            415: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Well-formed, but cannot be used (the `detail` says why) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listKeys: {
        parameters: {
            query?: {
                limit?: number;
                offset?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "items": [
                     *         {
                     *           "id": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
                     *           "prefix": "k3y9x2m4p7q1",
                     *           "name": "ci",
                     *           "createdAt": "2026-11-28T10:00:00.000Z",
                     *           "lastUsedAt": "2026-11-28T10:05:00.000Z",
                     *           "revokedAt": null
                     *         }
                     *       ],
                     *       "total": 1,
                     *       "limit": 20,
                     *       "offset": 0
                     *     }
                     */
                    "application/json": components["schemas"]["ApiKeyPage"];
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createKey: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "name": "ci"
                 *     }
                 */
                "application/json": {
                    /** @description What the key is for; no control or bidirectional-text characters */
                    name?: string;
                };
            };
        };
        responses: {
            /** @description Created: keep `key`, it is not shown again */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "5a6b7c8d-9e0f-4a1b-8c2d-3e4f5a6b7c8d",
                     *       "prefix": "k3y9x2m4p7q1",
                     *       "name": "ci",
                     *       "createdAt": "2026-11-28T10:00:00.000Z",
                     *       "lastUsedAt": null,
                     *       "revokedAt": null,
                     *       "key": "graft_k3y9x2m4p7q1_Xq3vT9cW2bL7nR4sY8dF1gH6jK0mP5zA"
                     *     }
                     */
                    "application/json": components["schemas"]["NewApiKey"];
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    revokeKey: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Done; no body */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource for your tenant */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getUsage: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Use and limits */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "tenant": "acme",
                     *       "quotas": {
                     *         "datasets": {
                     *           "limit": 100,
                     *           "used": 3,
                     *           "own": false
                     *         },
                     *         "storedBytes": {
                     *           "limit": 10737418240,
                     *           "used": 58720256,
                     *           "own": false
                     *         },
                     *         "imagesPerDataset": {
                     *           "limit": 50000,
                     *           "used": null,
                     *           "own": false
                     *         },
                     *         "concurrentJobs": {
                     *           "limit": 2,
                     *           "used": 1,
                     *           "own": false
                     *         },
                     *         "queuedJobs": {
                     *           "limit": 20,
                     *           "used": 4,
                     *           "own": false
                     *         },
                     *         "epochsPerPhase": {
                     *           "limit": 200,
                     *           "used": null,
                     *           "own": false
                     *         },
                     *         "wallSeconds": {
                     *           "limit": 7200,
                     *           "used": null,
                     *           "own": false
                     *         },
                     *         "models": {
                     *           "limit": 250,
                     *           "used": 12,
                     *           "own": true
                     *         }
                     *       },
                     *       "rateLimits": {
                     *         "default": {
                     *           "max": 100,
                     *           "windowSeconds": 10,
                     *           "own": false
                     *         },
                     *         "uploads": {
                     *           "max": 10,
                     *           "windowSeconds": 60,
                     *           "own": false
                     *         },
                     *         "jobs": {
                     *           "max": 30,
                     *           "windowSeconds": 60,
                     *           "own": false
                     *         },
                     *         "predict": {
                     *           "max": 600,
                     *           "windowSeconds": 10,
                     *           "own": true
                     *         },
                     *         "thumbnails": {
                     *           "max": 1000,
                     *           "windowSeconds": 10,
                     *           "own": false
                     *         }
                     *       }
                     *     }
                     */
                    "application/json": components["schemas"]["Usage"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listWebhooks: {
        parameters: {
            query?: {
                limit?: number;
                offset?: number;
            };
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "items": [
                     *         {
                     *           "id": "7c6b5a49-3827-4160-9f5e-4d3c2b1a0f9e",
                     *           "url": "https://hooks.example.com/graft",
                     *           "events": [
                     *             "state",
                     *             "report"
                     *           ],
                     *           "description": "CI notifications",
                     *           "createdAt": "2026-11-28T10:00:00.000Z",
                     *           "disabledAt": null,
                     *           "disabledReason": null
                     *         }
                     *       ],
                     *       "total": 1,
                     *       "limit": 20,
                     *       "offset": 0
                     *     }
                     */
                    "application/json": components["schemas"]["WebhookPage"];
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    createWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                /**
                 * @example {
                 *       "url": "https://hooks.example.com/graft",
                 *       "events": [
                 *         "state",
                 *         "report"
                 *       ]
                 *     }
                 */
                "application/json": {
                    /** @description An https:// URL on a public address, without credentials (the same fence as base-model URLs; an operator may narrow the hosts with GRAFT_WEBHOOK_HOSTS) */
                    url: string;
                    /** @description The job events to deliver; all of them when left out */
                    events?: ("state" | "report")[];
                    description?: string;
                };
            };
        };
        responses: {
            /** @description Created: keep `secret`, it is not shown again */
            201: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "7c6b5a49-3827-4160-9f5e-4d3c2b1a0f9e",
                     *       "url": "https://hooks.example.com/graft",
                     *       "events": [
                     *         "state",
                     *         "report"
                     *       ],
                     *       "description": "CI notifications",
                     *       "createdAt": "2026-11-28T10:00:00.000Z",
                     *       "disabledAt": null,
                     *       "disabledReason": null,
                     *       "secret": "whsec_q3vT9cW2bL7nR4sY8dF1gH6jK0mP5zAxE2rU4iO6pLk"
                     *     }
                     */
                    "application/json": components["schemas"]["NewWebhook"];
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Over a quota of your tenant (code `quota_exceeded`; `quota`, `limit`, `used` and `requested` say which and how far) */
            403: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Well-formed, but cannot be used (the `detail` says why) */
            422: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    getWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The webhook */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "7c6b5a49-3827-4160-9f5e-4d3c2b1a0f9e",
                     *       "url": "https://hooks.example.com/graft",
                     *       "events": [
                     *         "state",
                     *         "report"
                     *       ],
                     *       "description": "CI notifications",
                     *       "createdAt": "2026-11-28T10:00:00.000Z",
                     *       "disabledAt": null,
                     *       "disabledReason": null
                     *     }
                     */
                    "application/json": components["schemas"]["Webhook"];
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource for your tenant */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    deleteWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description Done; no body */
            204: {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource for your tenant */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    enableWebhook: {
        parameters: {
            query?: never;
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description The webhook, enabled */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "id": "7c6b5a49-3827-4160-9f5e-4d3c2b1a0f9e",
                     *       "url": "https://hooks.example.com/graft",
                     *       "events": [
                     *         "state",
                     *         "report"
                     *       ],
                     *       "description": "CI notifications",
                     *       "createdAt": "2026-11-28T10:00:00.000Z",
                     *       "disabledAt": null,
                     *       "disabledReason": null
                     *     }
                     */
                    "application/json": components["schemas"]["Webhook"];
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource for your tenant */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    listWebhookDeliveries: {
        parameters: {
            query?: {
                limit?: number;
                offset?: number;
            };
            header?: never;
            path: {
                id: string;
            };
            cookie?: never;
        };
        requestBody?: never;
        responses: {
            /** @description A page */
            200: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    /**
                     * @example {
                     *       "items": [
                     *         {
                     *           "id": "2d3e4f50-6172-4839-a4b5-c6d7e8f90a1b",
                     *           "eventType": "state",
                     *           "jobId": "0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b",
                     *           "status": "succeeded",
                     *           "attempts": 2,
                     *           "lastStatusCode": 200,
                     *           "lastError": null,
                     *           "body": "{\"id\":\"2d3e4f50-6172-4839-a4b5-c6d7e8f90a1b\",\"type\":\"job.state\",\"createdAt\":\"2026-11-28T10:00:25.120Z\",\"data\":{\"type\":\"state\",\"jobId\":\"0b9e8d7c-6a5f-4e3d-8c2b-1a0f9e8d7c6b\",\"at\":\"2026-11-28T10:00:25.000Z\",\"status\":\"succeeded\",\"cancelRequested\":false,\"error\":null,\"modelId\":\"3e4f5a6b-7c8d-4e9f-a0b1-c2d3e4f5a6b7\"}}",
                     *           "createdAt": "2026-11-28T10:00:25.120Z",
                     *           "deliveredAt": "2026-11-28T10:00:35.410Z"
                     *         }
                     *       ],
                     *       "total": 1,
                     *       "limit": 20,
                     *       "offset": 0
                     *     }
                     */
                    "application/json": components["schemas"]["WebhookDeliveryPage"];
                };
            };
            /** @description The request is malformed (see `errors` for which field) */
            400: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No valid API key (`Authorization: Bearer <key>`) */
            401: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description No such resource for your tenant */
            404: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Too many requests for this key (or address): retry after `Retry-After` seconds; `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset` tell the budget */
            429: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description A fault on our side; it has been logged */
            500: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
            /** @description Busy, or a dependency is unavailable: retry after `Retry-After` seconds */
            503: {
                headers: {
                    [name: string]: unknown;
                };
                content: {
                    "application/problem+json": components["schemas"]["Problem"];
                };
            };
        };
    };
    receiveJobEvent: {
        parameters: {
            query?: never;
            header: {
                /** @description `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` */
                "Graft-Signature": string;
                /** @description `job.state` or `job.report` */
                "Graft-Event": string;
                /** @description The delivery id: the same on every retry (deduplicate on it) */
                "Graft-Delivery": string;
            };
            path?: never;
            cookie?: never;
        };
        requestBody: {
            content: {
                "application/json": components["schemas"]["WebhookPayload"];
            };
        };
        responses: {
            /** @description Received; any other answer is retried */
            "2XX": {
                headers: {
                    [name: string]: unknown;
                };
                content?: never;
            };
        };
    };
}
