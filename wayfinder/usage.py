"""`TokenUsage`: the model tokens a step, a check or a whole run spent."""

from __future__ import annotations

from pydantic import BaseModel


class TokenUsage(BaseModel):
    """Tokens spent on the model, as the Messages API reports them."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    model_calls: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            **{name: getattr(self, name) + getattr(other, name) for name in TokenUsage.model_fields}
        )
