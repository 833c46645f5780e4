"""The one error type services raise for bad input or a forbidden operation."""


class DomainError(Exception):
    """A business rule said no. ``field`` names the input at fault, when there is one,
    so a form can show the message beside it and the API can key its 400 by it."""

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        row: int | None = None,
        code: str = "invalid",
    ):
        super().__init__(message)
        self.message = str(message)
        self.field = field
        self.row = row  # index of the row at fault in a list input (0-based), if any
        self.code = code

    def as_dict(self) -> dict:
        """The API's 400 body, shaped like DRF's own validation errors."""
        key = self.field or "non_field_errors"
        if self.row is None:
            return {key: [self.message]}
        rows: list[dict] = [{} for _ in range(self.row + 1)]
        rows[self.row] = {key: [self.message]}
        return {"rows": rows}
