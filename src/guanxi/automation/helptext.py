"""What the rule form and GET /help list: triggers, actions with their parameters, and condition fields."""

from guanxi.automation import actions, triggers
from guanxi.core import rules


def options() -> dict:
    return {
        "triggers": [{"key": key, "label": str(label)} for key, label in triggers.choices()],
        "actions": [
            {"key": a.key, "label": str(a.label), "help": str(a.help), "example": a.example}
            for a in actions.registered()
        ],
        "fields": [
            {
                "key": f.name,
                "label": str(f.label),
                "help": f.type + (": " + ", ".join(str(v) for v in f.examples) if f.examples else ""),
            }
            for f in rules.known_fields()
        ],
    }
