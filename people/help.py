"""Help given, one signal of ranking people (issue #17): "People who could help" (people.matching) and
the people finder (people.finder) order people with equal matches by it."""

from __future__ import annotations

from sqlalchemy import Subquery, func, select, union_all
from sqlalchemy.orm import aliased

from storage.models import Kudos, Object, Profile, ProfileTag, RecognitionOptOut


def help_given(keys: list[str]) -> Subquery:
    """Help each person gave in our groups that match the skills ``keys`` (a group whose profile names one
    of them): accepted answers and kudos received (issue #17; content.recognition), on live posts, nothing
    for helping yourself; one signal of the ranking, after the matched skills. People who opted out
    (``recognition_optouts``) are not ranked by it."""
    groups = (select(Profile.local_actor_id).join(ProfileTag, ProfileTag.profile_id == Profile.id)
              .where(Profile.kind == "group", ProfileTag.key.in_(keys)))
    answer = aliased(Object)
    answers = (select(answer.author_uri.label("uri")).select_from(Object)
               .join(answer, answer.uri == Object.accepted_answer_uri)
               .where(Object.group_id.in_(groups), Object.deleted.is_(False), answer.deleted.is_(False),
                      answer.author_uri != Object.author_uri))
    thanks = (select(Object.author_uri.label("uri")).select_from(Kudos).join(Object, Object.id == Kudos.object_id)
              .where(Kudos.group_id.in_(groups), Object.deleted.is_(False), Kudos.giver_uri != Object.author_uri))
    facts = union_all(answers, thanks).subquery("help_facts")
    return (select(facts.c.uri.label("uri"), func.count().label("help"))
            .where(facts.c.uri.not_in(select(RecognitionOptOut.actor_uri)))
            .group_by(facts.c.uri).subquery("help_given"))
