from guanxi.core.errors import Conflict, NotFound, ValidationFailed


class OrderNotFound(NotFound):
    code = "order_not_found"


class OrderInvalid(ValidationFailed):
    code = "order_invalid"


class DuplicateOrder(Conflict):
    code = "duplicate_order"


class OrderAlreadyRefunded(Conflict):
    code = "order_already_refunded"
