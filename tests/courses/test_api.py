"""What lti, certificates and the portals read through courses.api."""

from __future__ import annotations

from courses import api


def test_get_course_gives_the_latest_version_with_credit_and_partner(app, course):
    with app.app_context():
        info = api.get_course(course)
        assert info is not None
        assert (info.slug, info.version, info.language) == (course, "1.0.0", "en")
        assert info.credit == api.CreditInfo("ancc-contact-hours", 0.25)
        assert info.credit.label == "ANCC contact hours"
        assert info.pass_score == 0.75 and info.estimated_minutes == 16
        assert info.learner_path == "/courses/four-minute-reset"
        assert info.partner.slug == "northbridge-nursing"
        provider = info.partner.settings["accreditation"]["ancc-contact-hours"]["provider"]
        assert provider.startswith("Northbridge University")
        assert info.partner.settings["logo"] == "/courses/partners/northbridge-nursing/logo"
        assert len(info.objectives) == 4 and "resilience" in info.tags
        assert info.accreditation_statement and info.licence
        assert api.get_course(course, "1.0.0") == info


def test_unknown_courses_and_partners_are_none(app, course):
    with app.app_context():
        assert api.get_course("no-such-course") is None
        assert api.get_course(course, "9.9.9") is None
        assert api.get_partner("nobody") is None


def test_partner_and_logo(app, course):
    with app.app_context():
        partner = api.get_partner("northbridge-nursing")
        assert partner is not None and "Northbridge" in partner.name
        logo = api.get_partner_logo("northbridge-nursing")
        assert (
            logo is not None and logo.data.startswith(b"\x89PNG") and logo.media_type == "image/png"
        )


def test_search_catalog_filters_and_ranks(app, course, tenant):
    with app.app_context():
        assert [c.slug for c in api.search_catalog(tenant.id)] == [course]
        assert [c.slug for c in api.search_catalog(tenant.id, query="breathing")] == [course]
        assert api.search_catalog(tenant.id, query="knitting") == []
        assert api.search_catalog(tenant.id, credit_type="ipce") == []
        assert api.search_catalog(tenant.id, max_minutes=10) == []
        assert (
            len(api.search_catalog(tenant.id, credit_type="ancc-contact-hours", max_minutes=20))
            == 1
        )
