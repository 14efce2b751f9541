"""The vendors' own protocols, under /vendors/VENDOR/INSTANCE, so a config URL such as
``serverUrl: http://127.0.0.1:PORT/vendors/powerschool/lakeside`` points at them.

Behaviour follows the vendors' public protocols. Where a vendor documents nothing, the
behaviour is an assumption, marked [U] in the code and in openapi/simulator.yaml: error
bodies and statuses for bad credentials, Qmlativ's token JSON, the whole ETS contract,
and how an eTranscript vendor combines consumer key/secret with user name/password.
"""

from __future__ import annotations

from starlette.routing import Route

from .store import Store
from .vendor_ets import EtsVendors
from .vendor_oneroster import ONEROSTER_ROOT, OneRosterVendor
from .vendor_sis import SisStudents, SisVendors
from .web import guarded


class VendorApi(SisVendors, SisStudents, OneRosterVendor, EtsVendors):
    def __init__(self, store: Store) -> None:
        self.store = store

    def routes(self) -> list[Route]:
        ps, ae, ros, sky = (
            "/vendors/powerschool/{instance}",
            "/vendors/aeries/{instance}",
            "/vendors/oneroster/{instance}",
            "/vendors/skyward/{instance}",
        )
        ets, etr = "/vendors/ets/{instance}", "/vendors/etranscript/{instance}"
        table = [
            (f"{ps}/oauth/access_token", self.ps_token, ["POST"]),
            (f"{ps}/oauth/access_token/", self.ps_token, ["POST"]),
            (f"{ps}/ws/v1/metadata", self.ps_metadata, ["GET"]),
            (f"{ps}/ws/v1/student/{{student_id}}", self.ps_student, ["GET"]),
            (f"{ae}/api/v5/systeminfo", self.aeries_systeminfo, ["GET"]),
            (f"{ae}/api/v5/schools", self.aeries_schools, ["GET"]),
            (f"{ros}/token", self.oneroster_token, ["POST"]),
            (f"{ros}{ONEROSTER_ROOT}/orgs", self.oneroster_orgs, ["GET"]),
            (f"{ros}{ONEROSTER_ROOT}/students", self.oneroster_students, ["GET"]),
            (f"{ros}{ONEROSTER_ROOT}/students/{{sourced_id}}", self.oneroster_student, ["GET"]),
            (
                f"{ros}{ONEROSTER_ROOT}/demographics/{{sourced_id}}",
                self.oneroster_demographics,
                ["GET"],
            ),
            (f"{sky}/oauth/token", self.skyward_token, ["GET"]),
            (
                f"{sky}/Generic/{{entity}}/District/SchoolYear/{{page}}/{{size}}",
                self.skyward_school_years,
                ["GET"],
            ),
            (
                f"{sky}/Generic/{{entity}}/Student/Student/{{student_id}}",
                self.skyward_student,
                ["GET"],
            ),
            (f"{ets}/api/v1/token", self.ets_token, ["POST"]),
            (f"{ets}/api/v1/ssr", self.ets_ssr, ["GET"]),
            (f"{etr}/{{path:path}}", self.etranscript, ["GET", "HEAD", "POST"]),
        ]
        return [
            Route(path, guarded(endpoint), methods=methods) for path, endpoint, methods in table
        ]
