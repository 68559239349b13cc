"""Input and output of teaching evaluation (评教)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

State = Literal["upcoming", "open", "closed"]
SCORES = (1, 2, 3, 4, 5)
DEFAULT_ANCHORS = ["很不满意", "不满意", "一般", "满意", "非常满意"]
DIMENSIONS = ["教学态度", "教学内容", "教学方法", "教学效果"]
STATES: dict[str, str] = {"upcoming": "未开始", "open": "进行中", "closed": "已结束"}
MIN_ANSWERS_FLOOR = 3  # below this a section's results could point at a student
MAX_ITEMS = 40
MAX_COMMENT = 500


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    dimension: str = Field(min_length=1, max_length=20)
    text: str = Field(min_length=1, max_length=200)


class FormIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    term_id: int
    name: str = Field(min_length=1, max_length=80)
    intro: str = Field("", max_length=500)
    anchors: list[str] = Field(default_factory=lambda: list(DEFAULT_ANCHORS))
    comment_enabled: bool = True
    min_answers: int = Field(5, ge=MIN_ANSWERS_FLOOR, le=100)
    opens_at: datetime
    closes_at: datetime
    items: list[ItemIn] = Field(default_factory=list, max_length=MAX_ITEMS)


class ItemOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    number: int
    dimension: str
    text: str


class FormOut(BaseModel):
    id: int
    term_id: int
    term_name: str
    name: str
    intro: str
    anchors: list[str]
    comment_enabled: bool
    min_answers: int
    opens_at: datetime
    closes_at: datetime
    state: State
    answers: int
    items: list[ItemOut]

    def dimensions(self) -> list[tuple[str, list[ItemOut]]]:
        """The items grouped by dimension, in the order the dimensions first appear."""
        found: dict[str, list[ItemOut]] = {}
        for item in self.items:
            found.setdefault(item.dimension, []).append(item)
        return list(found.items())


class BallotIn(BaseModel):
    """One student's answers: a score 1..5 for every item (by item id), and a comment."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    scores: dict[int, int]
    comment: str = Field("", max_length=MAX_COMMENT)


class Reminded(BaseModel):
    students: int  # how many were reminded


class Submitted(BaseModel):
    section_id: int
    done: int
    total: int


class Task(BaseModel):
    """A section the student is to evaluate."""

    section_id: int
    section_code: str
    section_name: str
    course_name: str
    teachers: list[str]
    done: bool


class MyEvaluation(BaseModel):
    form: FormOut | None
    tasks: list[Task]
    done: int
    total: int


class SectionCompletion(BaseModel):
    section_id: int
    section_code: str
    section_name: str
    college_id: int
    college_name: str
    teachers: list[str]
    students: int
    completed: int
    rate: float


class CollegeCompletion(BaseModel):
    college_id: int
    college_name: str
    sections: int
    students: int
    completed: int
    rate: float


class CompletionOut(BaseModel):
    form_id: int
    threshold: float
    students: int
    completed: int
    rate: float
    colleges: list[CollegeCompletion]
    sections: list[SectionCompletion]
    below: list[SectionCompletion]


class ItemResult(BaseModel):
    item_id: int
    number: int
    dimension: str
    text: str
    mean: float | None
    distribution: list[int]  # how many gave 1, 2, 3, 4, 5


class DimensionResult(BaseModel):
    name: str
    mean: float | None


class Tally(BaseModel):
    answers: int
    mean: float | None
    dimensions: list[DimensionResult]
    items: list[ItemResult]


class SectionResult(BaseModel):
    section_id: int
    section_code: str
    section_name: str
    college_id: int
    college_name: str
    teachers: list[str]
    answers: int
    shown: bool  # enough answers (the form's min_answers) to show anything
    tally: Tally | None
    comments: list[str] = Field(default_factory=list)


class GroupResult(BaseModel):
    """The results of a teacher's or a college's sections shown (those with enough answers)."""

    id: int
    name: str
    sections: int
    answers: int
    tally: Tally


class ResultsOut(BaseModel):
    form: FormOut
    colleges: list[GroupResult]
    teachers: list[GroupResult]
    sections: list[SectionResult]
