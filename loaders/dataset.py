"""dataset.yaml: what the VoID/DCAT description says of the dataset itself (licn/dumps.py writes it)."""
from .common import Problem, Row, check_key, check_url, date_literal, section_line, unknown_sections, yaml_row

FIELDS = ("title", "description", "issued", "modified", "creator", "publisher", "contact")
# The mappings that name who made the dataset, who publishes it and whom to ask, with their required
# fields (creator and publisher may have a homepage too).
AGENTS = {"creator": ("key", "name"), "publisher": ("key", "name"), "contact": ("name", "url")}


def check_about(data: dict, file: str) -> list[Problem]:
    problems: list[Problem] = []
    unknown_sections(data, FIELDS, file, problems)
    for name in FIELDS:
        value = data.get(name)
        row = Row(file, section_line(data, name), data)
        if not value:
            problems.append(row.problem(name, "required value is empty"))
        elif name not in AGENTS:
            yaml_row({name: value, "__line__": row.line}, file, problems)  # a plain value, not too long
            if name in ("issued", "modified"):
                date_literal(row, name, problems)
        elif not isinstance(value, dict):
            fields = ", ".join(f"{field}: ..." for field in AGENTS[name])
            problems.append(row.problem(name, f"must be a mapping of fields ({{{fields}}})"))
        else:
            agent = yaml_row(value, file, problems)
            problems += [agent.problem(field, "required value is empty") for field in AGENTS[name] if not agent.get(field)]
            if "key" in AGENTS[name]:
                check_key(agent, "key", problems)
            for field in ("url", "homepage"):
                check_url(agent, field, problems)
    return problems
