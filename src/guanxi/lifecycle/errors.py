"""Lifecycle's domain errors (codes are stable API)."""

from guanxi.core.errors import NotFound, PermissionDenied, ValidationFailed


class DefinitionNotFound(NotFound):
    code = "stage_definition_not_found"


class InvalidDefinition(ValidationFailed):
    code = "invalid_stage_definition"


class NotAllowed(PermissionDenied):
    code = "stage_definitions_admin_only"


class CustomerNotFound(NotFound):
    code = "customer_not_found"


class InvalidPeriod(ValidationFailed):
    code = "invalid_period"
