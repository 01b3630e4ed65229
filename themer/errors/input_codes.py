"""THM1xx: input files, rows, columns and option values (see :mod:`themer.errors`)."""

from __future__ import annotations

from themer.errors.tree import BadRowsError, Code, InputFileError

__all__ = ["InputCodes"]

_IFE = InputFileError
_SEGMENT_CLI = "Map it with --segment NAME=COLUMN or a mapping file's segments."


class InputCodes:
    """The THM1xx codes, all :class:`InputFileError` (THM102: :class:`BadRowsError`)."""

    THM101 = Code.class_default(_IFE)
    THM102 = Code(BadRowsError, "rows fail validation in strict mode; nothing was written",
                  "{source}: {count} bad row(s); nothing was written. Fix them, or load in lenient "
                  "mode to skip bad rows and report them:{listing}",
                  cli="Fix the rows, or pass --lenient to skip bad rows and report them.",
                  api="Fix (or drop) the rows named in detail and upload the file again.")
    THM103 = Code(_IFE, "the input file does not exist", "{path}: file not found.")
    THM104 = Code(_IFE, "the input file holds no data rows (empty, or a header only)",
                  "{path}: the file has no data rows ({found}).")
    THM105 = Code(_IFE, "the input file is over the size limit",
                  "{path}: {size} GB is over the {limit} GB limit.",
                  cli="Split the export into smaller files.",
                  api="Split the export and upload the parts one by one.")
    THM106 = Code(_IFE, "the input file's type is not one themer reads",
                  "{path}: unsupported file type '{suffix}'. Use .csv, .tsv, .txt, .xlsx, "
                  ".json, .jsonl or .parquet.")
    THM107 = Code(_IFE, "the input file's bytes are not valid in its text encoding",
                  "{path}: bytes are not valid {encoding}{where}: {reason}. Re-export as UTF-8 "
                  "or read it with its own encoding (e.g. latin-1, cp1252).",
                  cli="Re-export as UTF-8, or pass --encoding (e.g. latin-1, cp1252).",
                  api="Re-export the file as UTF-8 and upload it again.")
    THM108 = Code(_IFE, "the input file cannot be parsed as its type",
                  "{path}: cannot parse the file ({reason}).")
    THM109 = Code(_IFE, "the column mapping file does not exist",
                  "{path}: mapping file not found.")
    THM110 = Code(_IFE, "the column mapping is not valid YAML",
                  "{path}: not valid YAML ({reason}).",
                  api="Fix the YAML of the mapping form field.")
    THM111 = Code(_IFE, "a column mapping key is invalid",
                  "{path}, key '{key}': {problem}. Keys: id, score, text, date, survey_type, "
                  "segments, scale.",
                  api="Fix that key of the mapping form field.")
    THM112 = Code(_IFE, "the id, score or text column cannot be detected",
                  "{source}: could not detect the {missing} column(s) among {columns}. Name the "
                  "id, score and text columns, or give a column mapping file.",
                  cli="Pass --id-col/--score-col/--text-col or --mapping FILE.",
                  api="Name the id, score and text columns in the mapping form field.")
    THM113 = Code(_IFE, "a column the caller names is not in the file",
                  "{source}: column(s) {absent} not found; the file has {columns}.",
                  api="Name columns of the uploaded file in the mapping form field.")
    THM114 = Code(_IFE, "a segment option is not NAME=COLUMN",
                  "segment '{item}': expected NAME=COLUMN.",
                  cli="Write each --segment as NAME=COLUMN, e.g. --segment plan=plan_tier.")
    THM115 = Code(_IFE, "no responses of the requested survey type",
                  "{source}: no responses of survey type '{survey_type}'; types present: "
                  "{available}.",
                  cli="Pick one of the types present with --survey-type NAME.",
                  api="Pass one of the types present as the survey_type query parameter.")
    THM116 = Code(_IFE, "a trained-head folder has no head.json", "{folder}: no head.json.",
                  cli="Train one with `themer train`.")
    THM117 = Code(_IFE, "the output path's suffix is not a format themer writes",
                  "{path}: output must end in .csv, .parquet, .jsonl or .json.",
                  cli="Name the output .csv, .parquet, .jsonl or .json.")
    THM118 = Code(_IFE, "the data mixes survey types, whose NPS is never pooled silently",
                  "{source}: the data holds several survey types {types}; relationship and "
                  "transactional NPS are never pooled silently.",
                  cli="Pass --survey-type NAME, or --pool.",
                  api="Pass the survey_type query parameter, or pool=true.")
    THM119 = Code(_IFE, "the label kind is not areas or types",
                  "label kind must be areas or types, not '{kind}'.",
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
                  "{k}-fold cross-validation needs K >= 2 and at least {needed} labelled rows "
                  "(there are {rows}); use a smaller K.",
                  cli="Pass a smaller --cv K.")
    THM124 = Code(_IFE, "no row of the evaluation file has a gold label",
                  "{source}: no row has a gold label in '{column}'.",
                  cli="Check --label-col.")
    THM125 = Code(_IFE, "an evaluation file score is not on the scale",
                  "{source}, row {row}, column '{column}': not a score on the '{scale}' scale "
                  "({count} such rows).")
    THM126 = Code(_IFE, "evaluation asked for a trained head and cross-validation at once",
                  "a trained head and cross-validation are alternatives: choose one.",
                  cli="Pass --head or --cv, not both.")
    THM127 = Code(_IFE, "baselines asked for without cross-validation",
                  "baselines need cross-validation: they train on the same folds.",
                  cli="Pass --cv K with --baselines.")
    THM128 = Code(_IFE, "statement splitting asked for with cross-validation",
                  "statement splitting applies to zero-shot and trained-head evaluation; "
                  "cross-validation trains and scores whole texts.",
                  cli="Drop --split with --cv (cross-validation scores whole texts).")
    THM129 = Code(_IFE, "a file is not a themer evaluation report",
                  "report {name} is not a themer evaluation report (missing {missing}).")
    THM130 = Code(_IFE, "two evaluation reports are of different data",
                  "the reports are of different data (n = {a} vs {b}); compare runs on the same "
                  "labelled file.",
                  cli="Compare runs of `themer eval` on the same labelled file.")
    THM131 = Code(_IFE, "two taggings are not of the same statements",
                  "the two taggings are not of the same statements; tag the same file with both "
                  "versions.")
    THM132 = Code(_IFE, "a JSON file cannot be read", "{path}: cannot read JSON ({reason}).")
    THM133 = Code(_IFE, "evaluation is missing required options", "themer eval needs {missing}.",
                  cli="See themer eval --help.")
    THM134 = Code(_IFE, "responses lack the NPS category column",
                  "responses need a 'category' column (load them with themer.ingest).")
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
                  "{what} must be month or quarter, not '{value}'.",
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
                  "{what} '{item}': expected NAME=COLUMN.",
                  cli="Write the option as NAME=COLUMN.")
    THM144 = Code(_IFE, "no behaviour measure columns", "no behaviour measure columns.",
                  cli="Pass --measure NAME=COLUMN (e.g. --measure logins=weekly_logins) "
                      "and/or --feature NAME=COLUMN.",
                  api="Pass measure (a stored numeric segment) and/or feature query parameters.")
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
                  "product-market fit needs a signup date column for cohorts and/or segment "
                  "columns.",
                  cli="Pass --cohort-col SIGNUP_DATE and/or --segment NAME=COLUMN.")
    THM149 = Code(_IFE, "a label file cannot be read, or lacks its columns, or is too long",
                  "{source}{where}: {problem}; nothing was stored.",
                  cli="Export a fresh sheet with `themer label export` and fill in its areas, "
                      "type and new_theme columns only.",
                  api="Send the labels as JSON objects with statement_id, taxonomy_version, "
                      "areas, type and new_theme.")
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
                  "theme kind must be area, type or area_type, not '{kind}'.",
                  cli="Pass --kind area, type or area_type.")
    THM160 = Code(_IFE, "a date option is not a date",
                  "{what} '{value}' is not a date; use YYYY-MM-DD.")
    THM161 = Code(_IFE, "a row filter is not COLUMN=VALUE", "{what} '{item}': expected NAME=VALUE.",
                  cli="Write each --where as COLUMN=VALUE.",
                  api="Write each segment filter as NAME=VALUE.")
    THM162 = Code(_IFE, "an edge share is outside [0, 1)",
                  "edge share must be in [0, 1), not {value}.",
                  cli="Pass --edge-share in [0, 1).")
    THM163 = Code(_IFE, "the recovery question is not a text column",
                  "recovery question '{question}' is not a text column (text columns: "
                  "{questions}).",
                  cli="Pass --recovery-question with one of the text columns.")
    THM164 = Code(_IFE, "a fix check names no theme",
                  "a fix check needs the theme the fix addresses.",
                  cli="Pass --theme THEME (the theme the fix addresses) with --fix.")
    THM165 = Code(_IFE, "validation has nothing to check",
                  "nothing to validate: give a launch date, a fix date and theme, or a roadmap "
                  "with launches or fixes.",
                  cli="Pass --launch DATE, --fix DATE --theme T, or --roadmap FILE with "
                      "launches/fixes.")
    THM166 = Code(_IFE, "an API key scope is not read, write or admin",
                  "key scope must be read, write or admin, not '{scope}'.",
                  cli="Pass --scope read, write or admin.")
    THM167 = Code(_IFE, "the taxonomy is already the active one; nothing to re-tag",
                  "{path} is already the active taxonomy; nothing to re-tag.")
    THM168 = Code(_IFE, "a job ended without succeeding", "job {job_id} ended {state}: {error}")
    THM169 = Code(_IFE, "a webhook URL is not http(s) or is over 2,000 characters",
                  "webhook URL '{url}' must be http(s), at most 2,000 characters.",
                  api="Send an http(s) url of at most 2,000 characters.")
    THM170 = Code(_IFE, "a discovery file has no such candidate",
                  "{path}: no candidate '{candidate}' (ids: {ids}).")
    THM171 = Code(_IFE, "the decisions log is over its size limit",
                  "{path}: more than {limit} decisions.",
                  cli="Archive the old decisions (move the file) and start a new log.")
    THM172 = Code(_IFE, "a decisions log line is not a decision",
                  "{path}, line {line}: not a decision ({reason}).")
    THM173 = Code(_IFE, "an NPS category filter is not promoter, passive or detractor",
                  "category '{category}': use promoter, passive or detractor.",
                  cli="Pass --category promoter, passive or detractor.")
    THM174 = Code(_IFE, "a date filter without a date column",
                  "{source}: a date range needs a date column.",
                  cli="Pass --date-col with --since/--until.")
    THM175 = Code(_IFE, "no responses match the filters",
                  "{source}: no responses match the filters.")
    THM176 = Code(_IFE, "a discovery decision is invalid", "{where}: {problem}.")
    THM177 = Code(_IFE, "a discovery decision's action is unknown",
                  "action '{action}': use merge, rename or discard (promote is its own "
                  "action).",
                  cli="Use merge, rename or discard (promote with `themer promote`).")
    THM178 = Code(_IFE, "the store refuses a row of an import; nothing was written",
                  "{source}, row {row}: {where}: {problem}. Nothing was written.",
                  cli="Fix the row (or drop it) and import again.",
                  api="Fix the row (or drop it) and send the import again.")
    THM179 = Code(_IFE, "the engine is not local or ray",
                  "engine must be local or ray, not '{engine}'.",
                  cli="Pass --engine local or ray.")
    THM180 = Code(_IFE, "the shard folder holds shards of another run",
                  "{folder}: holds shards of another run (different {changed}).",
                  cli="Use a new output folder, or empty this one.")
    THM181 = Code(_IFE, "the ray engine cannot run in the background",
                  "a Ray re-tag runs here and cannot be left queued.",
                  cli="Drop --no-wait with --engine ray.")
    THM182 = Code(_IFE, "the store holds no taxonomy yet to analyse stored responses with",
                  "the store holds no taxonomy yet.",
                  cli="Import responses first (`themer import`).",
                  api="Store a taxonomy first (PUT /v1/taxonomy).")
    THM183 = Code(_IFE, "a launch filters on a column the responses lack",
                  "{source}: launch '{launch}' filters on '{column}', which the responses lack.")
    THM184 = Code(_IFE, "the action reads an export file, not the stored responses",
                  "{action} reads an export file, not the stored responses.",
                  cli="Give an export file instead of --store (stored responses are tagged when "
                      "they are imported).")
    THM185 = Code(_IFE, "the id column named for an evaluation file is not in it",
                  "{source}: id column '{column}' not found.")
    THM186 = Code(_IFE, "an id repeats an earlier row of an evaluation file",
                  "{source}, row {row}, column '{column}': id '{value}' repeats an earlier row.")
    THM187 = Code(_IFE, "a tag file is given with the stored responses, which have their own",
                  "the stored responses are analysed with their stored tags; a tag file "
                  "({path}) cannot replace them.",
                  cli="Drop --tags with --store (or analyse the export file with --tags).")
    THM188 = Code(_IFE, "a label names an area or type its taxonomy version does not have",
                  "{where}, column '{column}': '{label}' is not {kind} of taxonomy version "
                  "{version} ({allowed}); nothing was stored.",
                  cli="Use the taxonomy's ids, or name a theme the taxonomy lacks in the "
                      "new_theme column.",
                  api="Use the taxonomy's ids, or name a theme the taxonomy lacks in new_theme.")
    THM189 = Code(_IFE, "a label's statement is not stored, or its id or text was edited",
                  "{where}, column '{column}': {problem}; nothing was stored.",
                  cli="Keep the statement_id and check columns as exported, or export a fresh "
                      "sheet with `themer label export`.",
                  api="Label statements as GET /v1/label/next returns them.")
    THM190 = Code(_IFE, "starter files already exist; nothing was written",
                  "{paths}: already exists; nothing was written.",
                  cli="Move them away, or pass --force to overwrite them.")
    THM191 = Code(_IFE, "the starter files cannot be written",
                  "{folder}: cannot write the starter files ({reason}).")
    THM192 = Code(_IFE, "a label is for another taxonomy version than the one labelled now",
                  "{where}, column '{column}': the label is for taxonomy version {given}, but "
                  "labels go to version {expected} (the active one); nothing was stored.",
                  cli="Export a fresh sheet for the active version with `themer label export`.",
                  api="Fetch a fresh batch with GET /v1/label/next and label that.")
    THM193 = Code(_IFE, "there are no labels yet to train a head on",
                  "no labels for taxonomy version {version} yet; label some statements first.",
                  cli="Label a batch with `themer label next` or `themer label import`.",
                  api="Send labels with POST /v1/labels first.")
    # A second meaning found under an old code takes a code from the top of the range down,
    # away from the new codes counting up.
    THM194 = Code(_IFE, "an analysis input is neither, or both, an export file and the store",
                  "one input is read, an export file or the stored responses (given: {given}).",
                  cli="Give an export file, or --store for the stored responses (not both).")
    THM195 = Code(_IFE, "a taxonomy version is gone from the store during a re-tag",
                  "taxonomy version {version_id} is gone.")
    THM196 = Code(_IFE, "a survey-tool export has no open-text column",
                  "{source}: {profile} export with no open-text column.",
                  cli="Pass --text-col COLUMN.",
                  api="Name the text column in the mapping form field.")
    THM197 = Code(_IFE, "a survey-tool export has no 0-10 'likely to recommend' column",
                  "{source}: {profile} export with no 0-10 'likely to recommend' column.",
                  cli="Pass --score-col COLUMN.",
                  api="Name the score column in the mapping form field.")
    THM198 = Code(_IFE, "a survey-tool export has no response id column",
                  "{source}: {profile} export without a response id column ({names}).",
                  cli="Pass --id-col COLUMN.",
                  api="Name the id column in the mapping form field.")
    THM199 = Code(_IFE, "a survey-tool export has no answer rows",
                  "{source}: a {profile} export with no answer rows.")
