"""The registry of error codes (错误代码表): each stable code, what it means and what the
operator does about it.

The exception classes that carry the codes are :mod:`interop._errors`, which re-exports
:data:`REGISTRY`, :class:`ErrorCode` and :func:`describe`; ``docs/errors.md`` and the
message catalogue's entries for the codes are generated from this table.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["REGISTRY", "ErrorCode", "describe"]


@dataclass(frozen=True, slots=True)
class ErrorCode:
    """One stable error code: what it means and what the operator does about it."""

    code: str
    meaning: str
    action: str


def _codes(*rows: tuple[str, str, str]) -> dict[str, ErrorCode]:
    """The registry by code; a code given twice is refused (a code has one meaning)."""
    out: dict[str, ErrorCode] = {}
    for code, meaning, action in rows:
        if code in out:
            raise ValueError(f"error code {code} is registered twice")
        out[code] = ErrorCode(code, meaning, action)
    return out


#: Every code interop uses, by code. A code keeps its meaning once published;
#: ``docs/errors.md`` is generated from this table (``tools/gen_errors_doc.py``).
REGISTRY: dict[str, ErrorCode] = _codes(
    ("E000", "An unexpected interop error.", "Report it with the command line that caused it."),
    (
        "E010",
        "The [settings] table of the configuration file is not a table or has an unknown key.",
        "Use only the keys listed in the settings documentation (db, org_code, cache_dir …).",
    ),
    (
        "E011",
        "A setting has the wrong type (from the environment or [settings]).",
        "Give text for names and paths, a whole number for counts.",
    ),
    # -- E1xx: input that cannot be read or used (exit 2)
    ("E100", "The input cannot be read, parsed or used.", "Read the message; fix the input."),
    ("E101", "A file cannot be read (missing, no permission).", "Check the path and rights."),
    ("E102", "A file is not valid UTF-8 JSON (or XML).", "Fix the file; the position is named."),
    ("E103", "A case-record file is not a JSON object.", "Give one case record per file."),
    ("E104", "Unknown output format.", "Use a format listed in the message (json, xml …)."),
    (
        "E105",
        "A value is not what the option or file needs (a date, a FHIR resource …).",
        "Give it in the form the message names (YYYY-MM-DD, ISO 8601, resourceType …).",
    ),
    ("E107", "Options that exclude each other, or none of them.", "Give exactly one of them."),
    ("E108", "A number option is out of range.", "Give a number in the range named."),
    (
        "E109",
        "The command's target does not exist or already exists (consent, delivery).",
        "Check the id with the list sub-command.",
    ),
    ("E110", "A case-record file breaks its JSON Schema.", "Fix the fields named."),
    ("E120", "A resident ID number (GB 11643) is malformed.", "Correct the number at its source."),
    ("E121", "A resident ID number does not have 18 characters.", "Correct the number."),
    ("E122", "A resident ID number is not 17 digits and a digit or X.", "Correct the number."),
    ("E123", "A resident ID number encodes no real birth date.", "Correct the number."),
    ("E124", "A resident ID number's check character is wrong (MOD 11-2).", "Correct it."),
    ("E130", "The list file's format is unknown.", "Give --format (csv, xlsx, xml, json …)."),
    ("E131", "The text encoding is wrong or unknown.", "Give --encoding (utf-8, gb18030 …)."),
    ("E132", "A CSV row is malformed.", "Fix the row named (quotes, separators)."),
    ("E133", "An XLSX workbook or its sheet cannot be read.", "Re-save the file or name --sheet."),
    ("E134", "An XML list file is not well-formed.", "Fix the file at the line named."),
    ("E135", "A JSON list file is not valid or holds no records.", "Fix the file."),
    ("E140", "No inbound mapping of that name.", "Use a name from mappings/inbound/."),
    ("E150", "A list feed's settings are wrong (its url).", "Fix the partner's table."),
    ("E152", "A partner's kind has no plugin.", "Install the plugin or fix 'kind'."),
    ("E153", "A partner's kind provides no list feed.", "Sync from a partner that has one."),
    ("E154", "--full applies to list files only.", "Leave --full out for a feed."),
    ("E160", "The partners configuration cannot be used.", "Fix the TOML file named."),
    ("E161", "No partner of that name in the configuration.", "Add [partners.NAME] or fix it."),
    ("E162", "A partner table or key is wrong.", "Fix the key named in the configuration."),
    (
        "E163",
        "The environment variable named by auth.token_env is not set.",
        "Set it in the environment of the command.",
    ),
    (
        "E164",
        "A secret is written in the configuration file.",
        "Move it to an environment variable named by auth.token_env.",
    ),
    ("E165", "Retry settings of a partner are not numbers.", "Fix max_attempts / retry_* keys."),
    ("E166", "A hospital partner's settings are wrong.", "Fix the key named (base_url …)."),
    ("E170", "A worker process died; the run did not complete.", "Run it again (memory?)."),
    # -- E18x: a child list that was not understood (interop sync; exit 2, nothing written)
    (
        "E180",
        "No row of the list's first rows names the mapping's columns: no header was found.",
        "Check the file is the child list, or give --header-row N (and --sheet NAME).",
    ),
    ("E181", "A required column is missing from the header.", "Add the column, or fix --mapping."),
    (
        "E182",
        "A column the mapping reads appears twice in the header (both places are named).",
        "Remove or rename one of them.",
    ),
    (
        "E183",
        "The list's text does not decode in the detected or given encoding.",
        "Give --encoding (gbk, utf-8 …) or save the file again as UTF-8.",
    ),
    ("E184", "The list has no data rows.", "Check it is the right file."),
    ("E185", "The workbook has no sheet of that name.", "Give a sheet the message lists."),
    ("E186", "The file has no row of that number.", "Give a header row inside the file."),
    (
        "E187",
        "A full list would delist more children than allowed (default 10 %); nothing was written.",
        "Check the list is complete; if it is, give --allow-delist N or P%.",
    ),
    ("E188", "--allow-delist is not a number or a share.", "Give N or P% (e.g. 25 or 30%)."),
    # -- E2xx: declarative data files (mappings/, profiles/) (exit 2)
    ("E200", "A data file under mappings/ or profiles/ is invalid.", "Fix the entry named."),
    ("E210", "A FHIR mapping file is invalid.", "Fix the mapping entry named."),
    ("E211", "No FHIR mapping files were found.", "Check the mappings folder."),
    ("E220", "A purpose policy file is invalid.", "Fix the policy at the line named."),
    # -- E25x: recording the steps of a case (interop case …)
    (
        "E250",
        "The step is not allowed in the state the case is in (the case state machine, §3.3).",
        "Record the steps before it first; the message names the states that allow it.",
    ),
    (
        "E251",
        "A blocking rule of the standard refuses the step; nothing was written.",
        "Do what the rule named asks (consent, planned sessions, staff …), then record again.",
    ),
    ("E252", "The form or step input cannot be used.", "Fix the field the message names."),
    ("E253", "No case of that number in the archive.", "Check the case number (interop cases)."),
    ("E254", "No open crisis, or more than one, for this step.", "Name the crisis (--crisis)."),
    (
        "E255",
        "A case that had service cannot close without its Annex D closure form.",
        "Give the closure form (--form).",
    ),
    (
        "E256",
        "The case changed by another step meanwhile.",
        "Show the case again and record the step once more.",
    ),
    (
        "E257",
        "The latest stored version of the case breaks the case-record format.",
        "Import a corrected record of the case.",
    ),
    ("E258", "The report's period or format is unusable.", "Give --from/--to dates, a format."),
    ("E259", "A session of that id is already recorded.", "Give the session a new id."),
    # -- E26x: case steps acting as a person; warnings signed off (interop case, console)
    (
        "E260",
        "A person the step names is not in the staff register, not active, or lacks the role.",
        "Name a register id of an active person with that role (interop staff list).",
    ),
    (
        "E261",
        "Warnings are signed off by a supervisor who did not record the step (four eyes).",
        "Ask another supervisor to sign them off.",
    ),
    (
        "E262",
        "No open warning of that number on the case.",
        "Show the case (interop case show) for its open warnings.",
    ),
    ("E263", "A sign-off needs a reason.", "Give --reason TEXT."),
    ("E264", "No case step of that name.", "Use one of the steps the message lists."),
    # -- E3xx: rules of the standard broken by the data (exit 1)
    ("E300", "A rule of the standard is broken by the data.", "Correct the case data."),
    ("E310", "A mapping makes the same resource twice.", "Fix the mapping's ids."),
    ("E311", "References do not resolve inside the Bundle.", "Fix the mapping's references."),
    # -- E33x: the programme's FHIR package (interop package …)
    ("E330", "The FHIR package folder is unusable.", "Give the profiles folder of the package."),
    ("E331", "The package's package.json is missing or wrong.", "Fix package.json."),
    ("E332", "A file of the package is not FHIR JSON.", "Fix or remove the file named."),
    (
        "E333",
        "The package is not sound (an unresolved canonical, a missing extension, a stale index).",
        "Fix what is listed; interop package index refreshes the index.",
    ),
    # -- E34x: the package loaded into a server, purpose profiles of what is shared
    (
        "E340",
        "A StructureDefinition of the package has no snapshot in the folder given.",
        "Write the snapshots: tools/hl7-validator/validate --snapshot-out DIR --ig profiles.",
    ),
    # -- E4xx: plugins and partner feeds
    ("E400", "A plugin cannot be loaded or implements an unknown hook.", "Fix the plugin."),
    ("E410", "A partner feed failed after its retries.", "Check the partner; sync again."),
    # -- E5xx: the archive (exit 1)
    (
        "E520",
        "There is no archive at that location (only interop init makes one).",
        "Run interop init --db URL, or give the --db of an existing archive.",
    ),
    (
        "E521",
        "The database has no interop archive schema (only interop init makes one).",
        "Run interop init --db URL, or give the --db of an existing archive.",
    ),
    ("E500", "The archive cannot be opened or written.", "Read the message; check the database."),
    ("E501", "The database URL is unusable.", "Give sqlite:///path or postgresql://…"),
    ("E502", "The archive cannot be opened.", "Check that the database is reachable."),
    ("E503", "The database holds foreign tables.", "Use an empty database for a new archive."),
    ("E504", "The archive does not exist yet.", "Create it first (sync or import)."),
    ("E505", "The archive is newer than this program.", "Upgrade interop."),
    ("E506", "The archive is too old to migrate.", "Export it with the release that wrote it."),
    ("E510", "A write to the archive failed.", "Check the database; run again."),
    # -- E6xx: disclosures and the outbox
    # E600–E611: the disclosure workflow (privacy decides).
    (
        "E600",
        "A disclosure step is not allowed in the disclosure's state.",
        "List the disclosure; do the step its state allows.",
    ),
    ("E601", "An unknown purpose code.", "Give a purpose of docs/purposes.md."),
    ("E602", "The case is not in the archive.", "Import the case first."),
    ("E603", "The case does not pass its checks.", "Correct the case before sharing it."),
    ("E604", "No disclosure of that id.", "Check the disclosure id."),
    ("E605", "This person may not approve or reject it (G-16).", "Ask another supervisor."),
    ("E606", "Someone else decided the disclosure meanwhile.", "List it to see its state."),
    ("E607", "The disclosure is not pending (or was reviewed).", "Nothing to do."),
    ("E608", "A rejection needs a reason.", "Give --reason."),
    ("E609", "The disclosure may not leave.", "Approve it first (interop approve)."),
    ("E610", "The disclosure was already delivered.", "Nothing to do."),
    (
        "E611",
        "A partner's delivery settings are wrong (an unknown key, a timeout that is not a "
        "positive number).",
        "Fix the key the message names in the partners file.",
    ),
    ("E620", "The partner did not take the disclosure.", "It stays approved; deliver again."),
    ("E621", "No plugin delivers to the partner's kind.", "Install the plugin or fix 'kind'."),
    ("E622", "Delivering the disclosure failed.", "Check the partner; deliver again."),
    ("E630", "The school did not take the Bundle.", "Check the school's endpoint."),
    ("E631", "A school partner's settings are wrong.", "Fix the key named."),
    # E640–E643: the outbox (exchange delivers).
    (
        "E640",
        "An outbox step is not allowed in the delivery's state.",
        "List the delivery (outbox list); do the step its state allows.",
    ),
    ("E641", "No outbox delivery of that id.", "Check the id (outbox list)."),
    (
        "E642",
        "The outbox delivery cannot be retried in its state.",
        "Only dead, refused or pending deliveries are retried.",
    ),
    (
        "E643",
        "The outbox delivery is being sent or was delivered: it cannot be cancelled or refused.",
        "Wait and list again.",
    ),
    # -- E7xx: referrals to hospitals
    ("E700", "A referral step cannot be done.", "Read the message; list the referral."),
    ("E701", "No referral of that id.", "Check the id with interop referral list."),
    ("E702", "The partner is not a hospital, or no plugin serves it.", "Refer to a hospital."),
    ("E703", "The case is not in the archive.", "Import the case first."),
    ("E704", "A referral option is wrong (trigger, mode, reason).", "Give it as the help says."),
    ("E705", "The purpose engine refused or held the referral.", "Read the reasons given."),
    ("E706", "The referral's disclosure is not approved.", "Have it approved first."),
    ("E707", "Polling the hospital failed.", "Check the hospital; poll again later."),
    ("E708", "The referral cannot be cancelled now.", "Wait, or ask the hospital."),
    ("E710", "The filtered Bundle lacks what a referral needs.", "Complete the case data."),
    ("E720", "The hospital's answer to a poll is not FHIR JSON.", "Poll again later."),
    (
        "E721",
        "The referral has no dead or refused delivery to send again.",
        "List its deliveries (interop referral show); fix the configuration first.",
    ),
    ("E722", "--batch and --lease must be positive.", "Give positive numbers."),
    (
        "E723",
        "The referral's delivery is uncertain: it may have reached the hospital.",
        "Run interop outbox run to reconcile it first.",
    ),
    # -- E8xx: people (the staff register), sign-in and the console
    ("E800", "The staff register cannot do what was asked.", "Read the message."),
    ("E801", "A staff id, name or date is unusable.", "Give it in the form the message names."),
    (
        "E802",
        "A qualification or screening entry is unknown or malformed.",
        "Use the codes listed.",
    ),
    (
        "E803",
        "A role is unknown, or a person was given no role.",
        "Use the roles listed (worker, counsellor, supervisor, org-lead …).",
    ),
    (
        "E804",
        "The person's recorded qualifications or screening do not allow the role (5.2).",
        "Record the qualification and the minor-contact screening first.",
    ),
    ("E805", "That staff id is already in the register.", "Choose another id."),
    ("E806", "No active staff member of that id.", "Check the id (interop staff list)."),
    (
        "E807",
        "The register already has staff: a signed-in administrator adds people.",
        "Sign in as an administrator (INTEROP_TOKEN) and use interop staff add.",
    ),
    ("E808", "The password is too short.", "Choose a longer password."),
    ("E809", "The token's lifetime or id is unusable.", "Give 1 to 366 days, or a token of yours."),
    ("E810", "Nobody is signed in.", "Sign in, or set INTEROP_TOKEN to your personal token."),
    (
        "E811",
        "Wrong staff id or password.",
        "Try again; the account locks after repeated failures.",
    ),
    ("E812", "The account is locked after repeated failures.", "Wait, or ask an administrator."),
    ("E813", "No valid personal token was given.", "Set INTEROP_TOKEN to a token of yours."),
    ("E814", "The token has expired or was revoked.", "Make a new one (interop staff token)."),
    ("E815", "The console session has ended.", "Sign in again."),
    ("E820", "Your roles do not allow this (deny by default).", "Ask someone whose role does."),
    (
        "E821",
        "This belongs to someone else (a request of yours, a token of others).",
        "Ask a colleague.",
    ),
    ("E822", "You are not staff of this case.", "Ask the case's care manager or a supervisor."),
    ("E823", "The form's CSRF token is missing or wrong.", "Reload the page and submit again."),
    ("E830", "The API request body is not a JSON object.", "Send a JSON object."),
    ("E831", "The console was asked for a row that does not exist.", "Go back to the list."),
    ("E832", "The two new passwords differ.", "Type the same new password twice."),
    (
        "E840",
        "interop serve cannot listen on that address and port.",
        "Stop what uses the port, or give --port (and --host).",
    ),
    # The console's jobs, referrals from the console, first sign-in (E850–E869)
    (
        "E850",
        "A scheduled feed's sync did not complete (the job's error on 后台任务 and 名单同步).",
        "Read the message: fix the partner's feed or configuration, or run "
        "`interop sync` by hand with --allow-delist when a full list really delists that many.",
    ),
    (
        "E851",
        "A scheduled feed's settings are unusable (sync_minutes, full, allow_delist, "
        "[sync] agreement_date).",
        "Correct the partner's table in the configuration file.",
    ),
    (
        "E852",
        "The referral form is incomplete (case, hospital, routine or crisis, reason).",
        "Fill in every field of the form.",
    ),
    (
        "E853",
        "The partner chosen for a referral is not a hospital partner (hospital-fhir).",
        "Choose a hospital of the partners configuration.",
    ),
    (
        "E854",
        "The initial administrator password file cannot be written or read.",
        "Check the folder beside the archive (the user data folder) and its permissions.",
    ),
)


def describe(code: str) -> ErrorCode | None:
    """The registry entry of a code, if it is registered."""
    return REGISTRY.get(code)
