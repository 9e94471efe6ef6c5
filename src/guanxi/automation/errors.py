from guanxi.core.errors import NotFound, PermissionDenied, ValidationFailed


class AutomationDenied(PermissionDenied):
    """Only admins and managers see and change automation rules and templates."""

    code = "automation_denied"


class RuleNotFound(NotFound):
    code = "rule_not_found"


class TemplateNotFound(NotFound):
    code = "template_not_found"


class RuleInvalid(ValidationFailed):
    """A rule's fields or actions break a rule; ``details`` maps ``name``, ``trigger``, ``actions.0.title`` ... to
    messages. (A condition that does not parse is ``rules.RuleError``, 400 ``invalid_rule``.)"""

    code = "automation_rule_invalid"


class TemplateInvalid(ValidationFailed):
    code = "email_template_invalid"
