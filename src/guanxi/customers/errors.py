from guanxi.core.errors import NotFound, PermissionDenied, ValidationFailed


class CustomerNotFound(NotFound):
    code = "customer_not_found"


class CustomerInvalid(ValidationFailed):
    code = "customer_invalid"


class OwnerAssignmentDenied(PermissionDenied):
    code = "owner_assignment_denied"


class CustomerReadOnly(PermissionDenied):
    code = "customer_read_only"
