"""The arithmetic of the accuracy page: WAPE, bias and Brier over (forecast, actual) pairs, per method."""
from dataclasses import dataclass, field

METHODS = ("credit", "stage", "commit", "runrate")  # SPEC §8: `forecast_accuracy` prints these
PAGE_METHODS = ("credit", "stage", "stage_fitted", "commit", "runrate")
LEADS = (1, 4, 8)


@dataclass
class Score:
    method: str
    periods: int = 0
    abs_error: float = 0.0
    error: float = 0.0
    actual: float = 0.0
    rows: list = field(default_factory=list)  # (period, forecast, actual)

    def add(self, period, forecast: float, actual: float):
        self.periods += 1
        self.abs_error += abs(forecast - actual)
        self.error += forecast - actual
        self.actual += actual
        self.rows.append((period, forecast, actual))

    @property
    def wape(self) -> float | None:
        return self.abs_error / self.actual if self.actual else None

    @property
    def accuracy(self) -> float | None:
        return None if self.wape is None else 1 - self.wape

    @property
    def bias(self) -> float | None:
        return self.error / self.actual if self.actual else None

    def line(self, schema: str, lead: int) -> str:
        wape = "n/a" if self.wape is None else f"{self.wape * 100:.1f}%"
        bias = "n/a" if self.bias is None else f"{self.bias * 100:+.1f}%"
        return f"forecast accuracy {schema} method={self.method} lead={lead}w: periods={self.periods} wape={wape} bias={bias}"


def wape_bias(pairs: list[tuple[float, float]]) -> tuple[float | None, float | None]:
    """(forecast, actual) pairs → (WAPE, bias); None when nothing was won."""
    actual = sum(a for _, a in pairs)
    if not actual:
        return None, None
    return sum(abs(f - a) for f, a in pairs) / actual, sum(f - a for f, a in pairs) / actual


def brier(pairs: list[tuple[float, int]]) -> float | None:
    """(probability, outcome 0/1) pairs → mean squared error; None without pairs."""
    return sum((p - o) ** 2 for p, o in pairs) / len(pairs) if pairs else None


def exact_add(totals: list | None, values: list) -> list:
    """Column-wise sum of exact figures, None (no line had it) counting as nothing."""
    if totals is None:
        return list(values)
    return [b if a is None else a if b is None else a + b for a, b in zip(totals, values)]


def squared_error(w2, w_won, won):
    """Σ(w − o)² from Σw², Σw over the won and the number won (o is 0 or 1): Σw² − 2·Σw·o + Σo."""
    return w2 - 2 * (w_won or 0) + won
