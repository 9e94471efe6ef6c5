from guanxi.core.errors import NotFound, PermissionDenied, ValidationFailed


class ImportNotFound(NotFound):
    code = "import_not_found"


class MappingNotFound(NotFound):
    code = "import_mapping_not_found"


class ImportDenied(PermissionDenied):
    code = "import_denied"


class ImportFileInvalid(ValidationFailed):
    """The file as a whole cannot be imported: too big, a zip bomb, an unknown encoding, no header ..."""

    code = "import_file_invalid"


class MappingInvalid(ValidationFailed):
    code = "import_mapping_invalid"


class ImportNotReady(ValidationFailed):
    code = "import_not_ready"
