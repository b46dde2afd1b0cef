"""Values that are shown translated as data: states, event kinds, column names, job
names and messages kept in constants. They reach ``_()`` (or a template's ``_``) as
variables, so the extractor cannot see them there; each is marked here, where its
translation is needed, and the catalogue check counts it as used.

Keep a group in step with the code named in its comment: a value that goes there comes
here too.
"""

from __future__ import annotations

from interop.i18n import N_

__all__ = ["VOCABULARY"]

VOCABULARY: tuple[str, ...] = (
    # states of a disclosure and of an outbox delivery (privacy, exchange.outbox;
    # console: outbox, preview, referral pages; approve, reject, outbox list)
    N_("pending"),
    N_("approved"),
    N_("refused"),
    N_("rejected"),
    N_("delivered"),
    N_("delivery-dead"),
    N_("queued"),
    N_("sending"),
    N_("dead"),
    N_("cancelled"),
    # outcome of the post-hoc review of a break-glass disclosure (privacy)
    N_("justified"),
    N_("not-justified"),
    # states of a referral (referral.lifecycle; console: referrals)
    N_("under-review"),
    N_("info-prepared"),
    N_("handed-over"),
    N_("feedback-received"),
    N_("closed"),
    N_("cancel-requested"),
    # kinds of referral events (referral.lifecycle; console: referral history)
    N_("created"),
    N_("status"),
    N_("anomaly"),
    N_("outcome"),
    N_("outcome-dropped"),
    N_("follow-up"),
    # fields of a referral shown on its page (console: referral)
    N_("case_number"),
    N_("partner"),
    N_("trigger"),
    N_("mode"),
    N_("state"),
    N_("task_status"),
    N_("business_status"),
    N_("status_reason"),
    N_("disclosure_id"),
    N_("created_at"),
    N_("sent_at"),
    N_("accept_due"),
    N_("accepted_at"),
    N_("finished_at"),
    # audit actions (privacy.audit; console: audit)
    N_("request"),
    N_("refusal"),
    N_("approval"),
    N_("approval-refused"),
    N_("rejection"),
    N_("break-glass-review"),
    N_("preview"),
    N_("delivery"),
    N_("delivery-failed"),
    # staff register events (staff.register; console: staff)
    N_("added"),
    N_("deactivated"),
    N_("password"),
    N_("resumed"),
    # a minor-contact screening result (staff.register; console: staff)
    N_("passed"),
    # a sync run's status (store; console: sync)
    N_("completed"),
    N_("failed"),
    # what an import did to a case record (store; consent, import)
    N_("new"),
    N_("changed"),
    N_("unchanged"),
    # background jobs of the console (web.jobs)
    N_("outbox"),
    N_("referral-poll"),
    N_("deadline-reminders"),
    # crisis types and referral modes of the referral form (referral.create, referral.triggers)
    N_("life-self"),
    N_("life-others"),
    N_("environment-threat"),
    N_("other-severe"),
    N_("transfer"),
    N_("concurrent"),
    # the archive that is not there (store.location.NO_ARCHIVE; said by i18n.errors)
    N_(
        "no archive at {where}: create one with `interop init --db URL` "
        "(the --db you gave), or give the --db of an existing archive"
    ),
    N_(
        "{where} holds no interop archive: create one with `interop init --db URL` "
        "(the --db you gave), or give the --db of an existing archive"
    ),
    # the console's CSRF refusal (web.security.MSG_CSRF)
    N_("the form is out of date or did not come from this console (CSRF); reload and retry"),
)
