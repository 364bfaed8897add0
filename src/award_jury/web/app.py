"""The Litestar application factory."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException, NotFoundException
from litestar.logging import LoggingConfig
from litestar.static_files import create_static_files_router
from litestar.template import TemplateConfig
from sqlalchemy.exc import DBAPIError

from award_jury import urls
from award_jury.accounts.controllers import AccountController, SessionController, SignInController
from award_jury.accounts.deletion_controllers import AccountDeletedController, AccountDeletionController
from award_jury.accounts.people_controllers import InvitationController, PeopleController
from award_jury.accounts.token_controllers import ApiTokenController
from award_jury.accounts.tokens import TokenRateLimiter
from award_jury.accounts.twofactor_controllers import TwoFactorController, TwoFactorSignInController
from award_jury.awards.controllers import AwardPagesController
from award_jury.awards.security_controllers import AwardSecurityController
from award_jury.awards.setup_controllers import AwardSetupController, NewAwardController
from award_jury.background import Runner, default_jobs
from award_jury.certificates import jobs
from award_jury.certificates.controllers import CertificateController, EntryCertificateController, VerifyController
from award_jury.db import Database
from award_jury.entries.controllers import CallController, EntryController, OrganiserEntriesController
from award_jury.errors import (
    NotAuthorizedError,
    NotFoundError,
    SignInRequiredError,
    StorageFullError,
    StorageUnavailableError,
    TwoFactorRequiredError,
)
from award_jury.judging.conflict_controllers import ConflictController
from award_jury.judging.live_controllers import LiveController, StreamRegistry
from award_jury.judging.round_controllers import AdvanceController, AssignmentController, ProgressController
from award_jury.judging.scoring_controllers import JuryController
from award_jury.mail import mail_environment
from award_jury.ranking.controllers import (
    JurorResultsController,
    MovedResultsController,
    PublicResultsController,
    ResultsController,
)
from award_jury.settings import Settings
from award_jury.web import errors, logs
from award_jury.web.api import StrictStructSchemaPlugin, api_router, openapi_config
from award_jury.web.api.auth import LIMITER
from award_jury.web.auth import load_viewer, provide_viewer, session_headers
from award_jury.web.bodies import FORM_AROUND_FILE, BodyMiddleware
from award_jury.web.controllers import SiteController
from award_jury.web.deps import provide_db_session, provide_mailer, provide_settings, provide_storage
from award_jury.web.middleware import (
    AllowedHostsMiddleware,
    LocaleMiddleware,
    PathValuesMiddleware,
    add_security_headers,
)
from award_jury.web.scheduler import scheduled
from award_jury.web.templating import create_environment
from award_jury.webhooks.controllers import WebhookController

CSRF_COOKIE = "award_jury_csrf"


def create_app(
    settings: Settings,
    database: Database | None = None,
    *,
    scheduler: bool | None = None,
    background: bool | None = None,
) -> Litestar:
    """Build the app. Pass ``database`` to share one (tests bind it to a rolled-back transaction);
    otherwise the app opens its own from ``settings`` and closes it on shutdown. ``scheduler``:
    run the retention rules about once an hour (web/scheduler.py); ``background``: run the
    background jobs (webhook deliveries, see background.py) while the app runs; both by default
    when the app opens its own database (``serve``), not on one it is given."""
    owns_db = database is None
    db = database or Database.from_url(settings.database_url)
    logs.install()  # no link tokens in the access log
    run_scheduler = owns_db if scheduler is None else scheduler
    runner = Runner(default_jobs(settings, db)) if (owns_db if background is None else background) else None

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        if runner is not None:
            runner.start()
        try:
            if run_scheduler:
                async with scheduled(db, settings):
                    yield
            else:
                yield
        finally:
            if runner is not None:
                await runner.stop()
            # The render processes end with the app (a clean stop; a killed server takes them
            # along by themselves, see certificates/jobs.py).
            await asyncio.to_thread(jobs.stop_pool)
            if owns_db:
                await db.dispose()

    async def provide_db(state: State) -> Database:
        current: Database = state.db  # (not ``db``: the tests point one app at each test's database)
        return current

    env = create_environment(settings.templates_dir, settings)
    app = Litestar(
        route_handlers=[
            SiteController,
            AwardPagesController,
            SignInController,
            AccountController,
            AccountDeletionController,
            AccountDeletedController,
            SessionController,
            TwoFactorController,
            TwoFactorSignInController,
            ApiTokenController,
            PeopleController,
            InvitationController,
            NewAwardController,
            AwardSetupController,
            AwardSecurityController,
            AssignmentController,
            ProgressController,
            AdvanceController,
            ResultsController,
            PublicResultsController,
            JurorResultsController,
            MovedResultsController,
            ConflictController,
            CallController,
            EntryController,
            OrganiserEntriesController,
            CertificateController,
            VerifyController,
            EntryCertificateController,
            JuryController,
            LiveController,
            WebhookController,
            api_router(),  # (ApiDocsController comes in through openapi_config)
            create_static_files_router(path="/static", directories=[settings.static_dir], name="static"),
        ],
        dependencies={
            "db_session": Provide(provide_db_session),
            "db": Provide(provide_db),
            "viewer": Provide(provide_viewer, sync_to_thread=False),
            "settings": Provide(provide_settings, sync_to_thread=False),
            "storage": Provide(provide_storage, sync_to_thread=False),
            "mailer": Provide(provide_mailer, sync_to_thread=False),
        },
        before_request=load_viewer,
        lifespan=[lifespan],
        template_config=TemplateConfig(instance=JinjaTemplateEngine.from_environment(env)),
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name=f"__Host-{CSRF_COOKIE}" if settings.secure_cookies else CSRF_COOKIE,
            cookie_secure=settings.secure_cookies,
            cookie_httponly=True,
            cookie_samesite="lax",
            # The API reads no session cookie (web/api/auth.py): a cookie-only request is anonymous
            # there, so it needs no CSRF token. The pages keep theirs.
            exclude=["/api/"],
        ),
        # BodyMiddleware runs after routing (it needs the route's limit) and before the CSRF check,
        # the handler and its database session: an unsafe request's body is read whole first.
        middleware=[
            AllowedHostsMiddleware.factory(settings.allowed_hosts),
            LocaleMiddleware,
            PathValuesMiddleware,
            BodyMiddleware,
        ],
        before_send=[add_security_headers, session_headers],
        exception_handlers={
            NotFoundError: errors.not_found_handler,
            NotAuthorizedError: errors.forbidden_handler,
            TwoFactorRequiredError: errors.two_factor_required_handler,
            SignInRequiredError: errors.sign_in_required_handler,
            StorageFullError: errors.storage_full_handler,
            StorageUnavailableError: errors.storage_unavailable_handler,
            NotFoundException: errors.not_found_handler,
            HTTPException: errors.http_exception_handler,
            DBAPIError: errors.database_error_handler,
            Exception: errors.internal_error_handler,
        },
        # The per-route limits are BodyMiddleware's (web/bodies.py); this is Litestar's own backstop.
        request_max_body_size=settings.max_upload_bytes + FORM_AROUND_FILE,
        openapi_config=openapi_config(),
        plugins=[StrictStructSchemaPlugin()],
        include_in_schema=False,  # the pages; the API's router includes its routes
        logging_config=LoggingConfig(log_exceptions="never", configure_root_logger=False),
        debug=False,
        state=State(
            {
                "settings": settings,
                "db": db,
                "jinja_env": env,
                "mail_env": mail_environment(settings.templates_dir),
                "live_streams": StreamRegistry(),
                LIMITER: TokenRateLimiter(settings.api_requests_per_minute),
            }
        ),
    )
    # One way to build URLs (urls.py): the route names resolve through this app's route table, in
    # Python and in templates (our url_for replaces Litestar's request-bound one, so mails can use it).
    urls.install(app.route_reverse)
    env.globals["url_for"] = urls.url_for
    return app


def install_urls(settings: Settings, database: Database | None = None) -> None:
    """Give ``urls.url_for`` the route table where no app serves (the CLI): the app's own."""
    create_app(settings, database)


def create_app_from_env() -> Litestar:
    """Entry point for ``uvicorn --factory`` (several workers)."""
    logging.basicConfig(level=logging.INFO)
    return create_app(Settings.from_env())
