"""dataset.yaml: what the VoID/DCAT description says of the dataset itself (licn/dumps.py writes it),
and what the release metadata repeats (CITATION.cff and the deposit metadata: licn/citation.py; the
RO-Crate: licn/crate.py)."""
from .common import Problem, Row, check_key, check_url, date_literal, section_line, unknown_sections, yaml_row
from .vocab import LICENCE

FIELDS = ("title", "description", "issued", "modified", "creator", "publisher", "contact", "version", "license",
          "keywords")
# The fields that are mappings, with their required fields (creator and publisher may have a homepage too).
MAPPINGS = {"creator": ("key", "name"), "publisher": ("key", "name"), "contact": ("name", "url"),
            "license": ("id", "url")}


def check_about(data: dict, file: str) -> list[Problem]:
    problems: list[Problem] = []
    unknown_sections(data, FIELDS, file, problems)
    for name in FIELDS:
        value = data.get(name)
        row = Row(file, section_line(data, name), data)
        if not value:
            problems.append(row.problem(name, "required value is empty"))
        elif name not in MAPPINGS:
            yaml_row({name: value, "__line__": row.line}, file, problems)  # a plain value, not too long
            if name in ("issued", "modified"):
                date_literal(row, name, problems)
            elif name == "version" and not isinstance(value, str):  # 1.10 would be read as the number 1.1
                problems.append(row.problem(name, f"write the version as text, in quotes ('{value}')"))
            elif name == "keywords" and not isinstance(value, list):
                problems.append(row.problem(name, "must be a list of keywords ([one, two])"))
        elif not isinstance(value, dict):
            fields = ", ".join(f"{field}: ..." for field in MAPPINGS[name])
            problems.append(row.problem(name, f"must be a mapping of fields ({{{fields}}})"))
        else:
            mapping = yaml_row(value, file, problems)
            problems += [mapping.problem(field, "required value is empty")
                         for field in MAPPINGS[name] if not mapping.get(field)]
            if "key" in MAPPINGS[name]:
                check_key(mapping, "key", problems)
            for field in ("url", "homepage"):
                check_url(mapping, field, problems)
            if name == "license" and mapping.get("url") and mapping.get("url") != str(LICENCE):
                # every page, document and Link header names the licence of loaders.vocab
                problems.append(mapping.problem("url", f"the pages and documents name {LICENCE} as the licence; "
                                                       "change it there (loaders/vocab.py) too, or name the same"))
    return problems
