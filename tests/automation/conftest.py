import pytest


@pytest.fixture(autouse=True)
def _fresh_rule_cache():
    """The engine caches active rules per process; a test's rules must not outlive its transaction."""
    from guanxi.automation import engine

    engine.invalidate()
    yield
    engine.invalidate()


@pytest.fixture
def make_rule(users):
    """``make_rule(trigger, condition, actions, **fields)``: a rule saved through the service by the admin."""
    from guanxi.automation import services

    def make(trigger: str, condition: str = "", actions=None, **fields):
        actor = fields.pop("actor", None) or users["admin"]
        data = {
            "name": fields.pop("name", f"{trigger} rule"),
            "trigger": trigger,
            "condition": condition,
            "actions": actions or [{"type": "add_tag", "tag": "touched"}],
            **fields,
        }
        return services.create_rule(actor=actor, data=data)

    return make


@pytest.fixture
def quiet_playbooks(db):
    """Deactivate the shipped playbooks, for tests that count every run or follow-up."""
    from guanxi.automation import engine
    from guanxi.automation.models import Rule

    Rule.objects.exclude(playbook="").update(active=False)
    engine.invalidate()
