//! The one authorisation policy. Every REST handler, server function and page asks here — never anywhere
//! else — whether the caller may do something.
//!
//! An [`Action`] is something the product lets people do. Each is either *platform*-scoped (console-wide:
//! settings, accounts, the audit log) or *organisation*-scoped (deployments and members belong to one
//! organisation, and the caller's role in **that** organisation decides). The rule of every action is in
//! [`Action::rule`]; the test at the bottom compares every role × action against an explicit table.
//!
//! ```ignore
//! // In a server function (SSR): resolve the caller and check in one call.
//! let me = crate::auth::require(Action::DeploymentWipe, Some(&deployment.org_id))?;
//! // Or with a principal in hand (REST handlers get it from the request extensions):
//! policy::require(&principal, Action::SettingsManage, None)?;
//! ```
//!
//! To add an action: add a line to `actions!` and its rule to [`Action::rule`] (the compiler insists), then
//! a row to the expected table in the tests.
//!
//! **Granting roles** follows from the same table: a role can grant only what it holds itself. Granting (or
//! taking away) organisation role R in organisation O needs `org.members.manage` in O *and* every permission
//! R gives in O ([`may_grant`]); a platform role needs `users.manage` and every permission of that role
//! ([`may_grant_platform`]). So an owner grants every role, an admin admin and below, a sovereign admin only
//! viewer (it reads every organisation but holds no role in one), a superadmin everything. Nobody changes their
//! own roles (the account service refuses that before asking here). The tests compare both against a second
//! hand-written table, `GRANTS`.

use serde::{Deserialize, Serialize};

use super::types::{OrgRole, PlatformRole, Principal};
use crate::error::AppError;

macro_rules! actions {
    ($( $(#[doc = $doc:literal])* $variant:ident => $name:literal, )*) => {
        /// Everything the product lets people do. The string is the permission's name (shown in 403s).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum Action {
            $( $(#[doc = $doc])* $variant, )*
        }

        impl Action {
            /// Every action, in declaration order.
            pub const ALL: &'static [Action] = &[$(Action::$variant),*];

            /// The permission's name: `deployments.wipe`.
            pub fn name(self) -> &'static str {
                match self { $( Action::$variant => $name, )* }
            }
        }
    };
}

actions! {
    /// See the console at all: the overview, one's own profile and password.
    ConsoleView => "console.view",
    /// Read the console's own status (database, schema, uptime).
    SystemStatusRead => "system.status.read",
    /// Change console-wide settings (`/api/v1/settings`).
    SettingsManage => "settings.manage",
    /// Manage every account: platform roles, disable/enable, across all organisations.
    UsersManage => "users.manage",
    /// Create organisations.
    OrgsManage => "orgs.manage",
    /// See an organisation and its members.
    OrgRead => "org.read",
    /// Invite people to an organisation, change their role (below owner), remove them.
    OrgMembersManage => "org.members.manage",
    /// Grant or take away the owner role in an organisation.
    OrgOwnersManage => "org.owners.manage",
    /// Read the security and administration audit log.
    AuditRead => "audit.read",
    /// Create, list and revoke one's own API tokens.
    OwnTokensManage => "tokens.manage-own",
    /// Browse the component catalog / marketplace.
    CatalogRead => "catalog.read",
    /// Use the provisioning wizard and its drafts for an organisation.
    WizardUse => "wizard.use",
    /// Launch a deployment (a Sovereign) for an organisation.
    DeploymentCreate => "deployments.create",
    /// See an organisation's deployments and their state.
    DeploymentRead => "deployments.read",
    /// Retry a failed phase of a deployment.
    DeploymentRetry => "deployments.retry",
    /// Stop a deployment's run in flight (OpenTofu is stopped; the deployment is recorded as failed).
    DeploymentCancel => "deployments.cancel",
    /// Delete a deployment's record (not its infrastructure).
    DeploymentDelete => "deployments.delete",
    /// Destroy a deployment's cloud infrastructure.
    DeploymentWipe => "deployments.wipe",
    /// Read a deployment's live events and logs.
    DeploymentEventsRead => "deployments.events.read",
    /// Download a deployment's kubeconfig (cluster-admin credentials).
    DeploymentKubeconfigDownload => "deployments.kubeconfig.download",
    /// List vouchers and their redemption history.
    VoucherRead => "vouchers.read",
    /// Issue a voucher (and have it e-mailed).
    VoucherIssue => "vouchers.issue",
    /// Switch a voucher on or off.
    VoucherUpdate => "vouchers.update",
    /// Revoke a voucher for good (its redemption history stays).
    VoucherRevoke => "vouchers.revoke",
    /// See an organisation's credit balance, ledger and orders.
    BillingRead => "billing.read",
    /// Redeem a voucher for an organisation (credit it).
    BillingRedeem => "billing.redeem",
    /// See the domains that deleted-but-not-wiped deployment records still hold, and release one (its
    /// Sovereign's tree and DNS name become free for any organisation).
    DomainRelease => "domains.release",
}

/// Whether an action is about the whole console or about one organisation's things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Platform,
    Organisation,
}

/// Who may do an action. A superadmin may always.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub scope: Scope,
    /// Any signed-in user, whatever their roles.
    pub signed_in: bool,
    /// Members of the organisation with at least this role (organisation-scoped actions only).
    pub min_org_role: Option<OrgRole>,
    /// Sovereign admins, on every organisation.
    pub sovereign_admin: bool,
}

const fn platform(signed_in: bool, sovereign_admin: bool) -> Rule {
    Rule {
        scope: Scope::Platform,
        signed_in,
        min_org_role: None,
        sovereign_admin,
    }
}

const fn org(min: OrgRole, sovereign_admin: bool) -> Rule {
    Rule {
        scope: Scope::Organisation,
        signed_in: false,
        min_org_role: Some(min),
        sovereign_admin,
    }
}

impl Action {
    /// The rule of each action: the policy itself.
    pub const fn rule(self) -> Rule {
        use Action::*;
        use OrgRole::*;
        match self {
            ConsoleView | SystemStatusRead | OwnTokensManage | CatalogRead => platform(true, true),
            SettingsManage | UsersManage | DomainRelease => platform(false, false),
            OrgsManage | AuditRead => platform(false, true),
            VoucherRead | VoucherIssue | VoucherUpdate | VoucherRevoke => platform(false, true),
            OrgRead => org(Viewer, true),
            OrgMembersManage => org(Admin, true),
            OrgOwnersManage => org(Owner, false),
            WizardUse | DeploymentCreate | DeploymentRetry | DeploymentCancel => org(Editor, false),
            DeploymentRead | DeploymentEventsRead => org(Viewer, true),
            DeploymentDelete | DeploymentWipe | DeploymentKubeconfigDownload => org(Admin, false),
            BillingRead => org(Viewer, true),
            BillingRedeem => org(Admin, false),
        }
    }

    pub fn scope(self) -> Scope {
        self.rule().scope
    }

    pub fn parse(name: &str) -> Option<Action> {
        Action::ALL.iter().copied().find(|a| a.name() == name)
    }
}

/// One role a caller can hold, as the matrix test enumerates them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    Platform(PlatformRole),
    /// A member of the organisation in question, with this role.
    Member(OrgRole),
    /// Signed in, with no platform role and no role in the organisation in question.
    SignedIn,
}

/// Whether one role alone allows an action (on the organisation the role is held in).
pub fn role_allows(subject: Subject, action: Action) -> bool {
    let rule = action.rule();
    match subject {
        Subject::Platform(PlatformRole::Superadmin) => true,
        Subject::Platform(PlatformRole::SovereignAdmin) => rule.sovereign_admin || rule.signed_in,
        Subject::Member(role) => rule.signed_in || rule.min_org_role.is_some_and(|min| role.at_least(min)),
        Subject::SignedIn => rule.signed_in,
    }
}

/// Whether `p` may do `action`. For organisation-scoped actions `org` is the organisation's id; `None`
/// asks "in at least one organisation" (what navigation needs). Platform actions ignore `org`.
pub fn allowed(p: &Principal, action: Action, org: Option<&str>) -> bool {
    if role_allows(Subject::SignedIn, action) {
        return true;
    }
    if let Some(role) = p.platform_role
        && role_allows(Subject::Platform(role), action)
    {
        return true;
    }
    if action.scope() == Scope::Platform {
        return false;
    }
    match org {
        Some(id) => p
            .org_role(id)
            .is_some_and(|role| role_allows(Subject::Member(role), action)),
        None => p
            .memberships
            .iter()
            .any(|m| role_allows(Subject::Member(m.role), action)),
    }
}

/// [`allowed`], or `AppError::Forbidden(<permission name>)`.
pub fn require(p: &Principal, action: Action, org: Option<&str>) -> Result<(), AppError> {
    if allowed(p, action, org) {
        Ok(())
    } else {
        Err(AppError::Forbidden(action.name().to_string()))
    }
}

/// Whether one role alone may grant (or take away) organisation role `role` in the organisation it is held in
/// (for a platform role: in any organisation).
pub fn role_may_grant(subject: Subject, role: OrgRole) -> bool {
    role_allows(subject, Action::OrgMembersManage)
        && Action::ALL
            .iter()
            .filter(|a| a.scope() == Scope::Organisation)
            .all(|&a| !role_allows(Subject::Member(role), a) || role_allows(subject, a))
}

/// Whether one role alone may grant (or take away) platform role `role`.
pub fn role_may_grant_platform(subject: Subject, role: PlatformRole) -> bool {
    role_allows(subject, Action::UsersManage)
        && Action::ALL
            .iter()
            .all(|&a| !role_allows(Subject::Platform(role), a) || role_allows(subject, a))
}

/// What `p` lacks to grant (or take away) organisation role `role` in organisation `org`: `None` if they may,
/// else the first permission the role gives there that they do not have (`org.members.manage` if they may
/// not manage members at all).
pub fn grant_lacks(p: &Principal, org: &str, role: OrgRole) -> Option<Action> {
    if !allowed(p, Action::OrgMembersManage, Some(org)) {
        return Some(Action::OrgMembersManage);
    }
    Action::ALL
        .iter()
        .copied()
        .filter(|a| a.scope() == Scope::Organisation)
        .find(|&a| role_allows(Subject::Member(role), a) && !allowed(p, a, Some(org)))
}

/// Whether `p` may grant (or take away) organisation role `role` in organisation `org`.
pub fn may_grant(p: &Principal, org: &str, role: OrgRole) -> bool {
    grant_lacks(p, org, role).is_none()
}

/// [`may_grant`], or `AppError::Forbidden` naming the permission `p` lacks.
pub fn require_grant(p: &Principal, org: &str, role: OrgRole) -> Result<(), AppError> {
    match grant_lacks(p, org, role) {
        None => Ok(()),
        Some(a) => Err(AppError::Forbidden(a.name().to_string())),
    }
}

/// Whether `p` may grant (or take away) platform role `role`.
pub fn may_grant_platform(p: &Principal, role: PlatformRole) -> bool {
    // A platform role acts on every organisation, so its organisation permissions must be held everywhere.
    let holds = |a: Action| match a.scope() {
        Scope::Platform => allowed(p, a, None),
        Scope::Organisation => allowed_everywhere(p, a),
    };
    allowed(p, Action::UsersManage, None)
        && Action::ALL
            .iter()
            .all(|&a| !role_allows(Subject::Platform(role), a) || holds(a))
}

/// [`may_grant_platform`], or `AppError::Forbidden` naming the permission `p` lacks.
pub fn require_grant_platform(p: &Principal, role: PlatformRole) -> Result<(), AppError> {
    if !allowed(p, Action::UsersManage, None) {
        return Err(AppError::Forbidden(Action::UsersManage.name().to_string()));
    }
    if may_grant_platform(p, role) {
        Ok(())
    } else {
        Err(AppError::Forbidden(Action::UsersManage.name().to_string()))
    }
}

/// Whether `p` may do `action` on **every** organisation (through a platform role): list filters use it.
pub fn allowed_everywhere(p: &Principal, action: Action) -> bool {
    role_allows(Subject::SignedIn, action)
        || p.platform_role
            .is_some_and(|r| role_allows(Subject::Platform(r), action))
}

/// The ids of the organisations where `p` may do `action` through membership. Together with
/// [`allowed_everywhere`] this is how lists are filtered: `everywhere || ids.contains(&row.org_id)`.
pub fn org_ids_allowing(p: &Principal, action: Action) -> Vec<String> {
    p.memberships
        .iter()
        .filter(|m| role_allows(Subject::Member(m.role), action))
        .map(|m| m.org_id.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::types::{Credential, Membership};

    const SUPER: Subject = Subject::Platform(PlatformRole::Superadmin);
    const SOV: Subject = Subject::Platform(PlatformRole::SovereignAdmin);
    const OWNER: Subject = Subject::Member(OrgRole::Owner);
    const ADMIN: Subject = Subject::Member(OrgRole::Admin);
    const EDITOR: Subject = Subject::Member(OrgRole::Editor);
    const VIEWER: Subject = Subject::Member(OrgRole::Viewer);
    const NONE: Subject = Subject::SignedIn;
    const SUBJECTS: [Subject; 7] = [SUPER, SOV, OWNER, ADMIN, EDITOR, VIEWER, NONE];

    /// The expected policy, written out by hand: one row per action, columns
    /// superadmin, sovereign-admin, owner, admin, editor, viewer, signed-in without a role.
    /// 1 = allowed. Every action must have a row; every row is compared cell by cell.
    const EXPECTED: &[(&str, [u8; 7])] = &[
        //                                  sup sov own adm edi vie none
        ("console.view", [1, 1, 1, 1, 1, 1, 1]),
        ("system.status.read", [1, 1, 1, 1, 1, 1, 1]),
        ("settings.manage", [1, 0, 0, 0, 0, 0, 0]),
        ("users.manage", [1, 0, 0, 0, 0, 0, 0]),
        ("orgs.manage", [1, 1, 0, 0, 0, 0, 0]),
        ("org.read", [1, 1, 1, 1, 1, 1, 0]),
        ("org.members.manage", [1, 1, 1, 1, 0, 0, 0]),
        ("org.owners.manage", [1, 0, 1, 0, 0, 0, 0]),
        ("audit.read", [1, 1, 0, 0, 0, 0, 0]),
        ("tokens.manage-own", [1, 1, 1, 1, 1, 1, 1]),
        ("catalog.read", [1, 1, 1, 1, 1, 1, 1]),
        ("wizard.use", [1, 0, 1, 1, 1, 0, 0]),
        ("deployments.create", [1, 0, 1, 1, 1, 0, 0]),
        ("deployments.read", [1, 1, 1, 1, 1, 1, 0]),
        ("deployments.retry", [1, 0, 1, 1, 1, 0, 0]),
        ("deployments.cancel", [1, 0, 1, 1, 1, 0, 0]),
        ("deployments.delete", [1, 0, 1, 1, 0, 0, 0]),
        ("deployments.wipe", [1, 0, 1, 1, 0, 0, 0]),
        ("deployments.events.read", [1, 1, 1, 1, 1, 1, 0]),
        ("deployments.kubeconfig.download", [1, 0, 1, 1, 0, 0, 0]),
        ("vouchers.read", [1, 1, 0, 0, 0, 0, 0]),
        ("vouchers.issue", [1, 1, 0, 0, 0, 0, 0]),
        ("vouchers.update", [1, 1, 0, 0, 0, 0, 0]),
        ("vouchers.revoke", [1, 1, 0, 0, 0, 0, 0]),
        ("billing.read", [1, 1, 1, 1, 1, 1, 0]),
        ("billing.redeem", [1, 0, 1, 1, 0, 0, 0]),
        ("domains.release", [1, 0, 0, 0, 0, 0, 0]),
        // Grant rules: who may grant (or take away) each role. A role grants only what it holds itself.
        ("grant org owner", [1, 0, 1, 0, 0, 0, 0]),
        ("grant org admin", [1, 0, 1, 1, 0, 0, 0]),
        ("grant org editor", [1, 0, 1, 1, 0, 0, 0]),
        ("grant org viewer", [1, 1, 1, 1, 0, 0, 0]),
        ("grant platform superadmin", [1, 0, 0, 0, 0, 0, 0]),
        ("grant platform sovereign-admin", [1, 0, 0, 0, 0, 0, 0]),
    ];

    /// What a row of the table asks: an action, or granting a role.
    fn decide(row: &str, subject: Subject) -> bool {
        if let Some(role) = row.strip_prefix("grant org ") {
            let role = OrgRole::parse(role).unwrap_or_else(|| panic!("no role {role}"));
            return role_may_grant(subject, role);
        }
        if let Some(role) = row.strip_prefix("grant platform ") {
            let role = PlatformRole::parse(role).unwrap_or_else(|| panic!("no role {role}"));
            return role_may_grant_platform(subject, role);
        }
        let action = Action::parse(row).unwrap_or_else(|| panic!("no action {row}"));
        role_allows(subject, action)
    }

    #[test]
    fn the_matrix_is_exhaustive_and_matches_the_policy() {
        let actions = EXPECTED
            .iter()
            .filter(|(row, _)| !row.starts_with("grant "))
            .count();
        assert_eq!(
            actions,
            Action::ALL.len(),
            "every action has exactly one row in the expected table"
        );
        for &action in Action::ALL {
            assert!(
                EXPECTED.iter().any(|(row, _)| *row == action.name()),
                "no expected row for {}",
                action.name()
            );
        }
        let grants = EXPECTED
            .iter()
            .filter(|(row, _)| row.starts_with("grant "))
            .count();
        assert_eq!(
            grants,
            OrgRole::ALL.len() + PlatformRole::ALL.len(),
            "every role has a grant row"
        );
        let mut failures = Vec::new();
        for (row, expected) in EXPECTED {
            for (subject, want) in SUBJECTS.iter().zip(expected) {
                let got = decide(row, *subject);
                if got != (*want == 1) {
                    failures.push(format!("{subject:?} × {row}: expected {want}, policy says {got}"));
                }
            }
        }
        assert!(
            failures.is_empty(),
            "policy differs from the table:\n{}",
            failures.join("\n")
        );
    }

    #[test]
    fn names_are_unique_and_parse_back() {
        let mut names: Vec<_> = Action::ALL.iter().map(|a| a.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Action::ALL.len());
        for &a in Action::ALL {
            assert_eq!(Action::parse(a.name()), Some(a));
        }
    }

    fn principal(platform: Option<PlatformRole>, memberships: &[(&str, OrgRole)]) -> Principal {
        Principal {
            user_id: "u1".into(),
            email: "u1@example.com".into(),
            display_name: String::new(),
            platform_role: platform,
            memberships: memberships
                .iter()
                .map(|(id, role)| Membership {
                    org_id: id.to_string(),
                    org_slug: id.to_string(),
                    org_name: id.to_string(),
                    role: *role,
                })
                .collect(),
            credential: Credential::Session { id: "s".into() },
            has_password: true,
        }
    }

    /// `allowed` applied to real principals agrees with the table, including the organisation boundary:
    /// a role in organisation A gives nothing in organisation B.
    #[test]
    fn principals_follow_the_matrix_per_organisation() {
        for &action in Action::ALL {
            for role in OrgRole::ALL {
                let p = principal(None, &[("a", role)]);
                let in_a = allowed(&p, action, Some("a"));
                assert_eq!(
                    in_a,
                    role_allows(Subject::Member(role), action),
                    "{role:?} {action:?} in own org"
                );
                let in_b = allowed(&p, action, Some("b"));
                assert_eq!(
                    in_b,
                    role_allows(NONE, action),
                    "{role:?} {action:?} in another org"
                );
                // "In some organisation" is what navigation asks.
                let anywhere = allowed(&p, action, None);
                assert_eq!(
                    anywhere,
                    role_allows(Subject::Member(role), action),
                    "{role:?} {action:?} anywhere"
                );
                let err = require(&p, action, Some("b"));
                if !in_b {
                    assert_eq!(err, Err(AppError::Forbidden(action.name().to_string())));
                }
            }
            for role in PlatformRole::ALL {
                let p = principal(Some(role), &[]);
                for org in [Some("a"), None] {
                    assert_eq!(
                        allowed(&p, action, org),
                        role_allows(Subject::Platform(role), action),
                        "{role:?} {action:?} {org:?}"
                    );
                }
                assert_eq!(
                    allowed_everywhere(&p, action),
                    role_allows(Subject::Platform(role), action)
                );
            }
        }
    }

    #[test]
    fn the_best_role_wins_and_lists_filter_by_membership() {
        let p = principal(
            Some(PlatformRole::SovereignAdmin),
            &[("a", OrgRole::Viewer), ("b", OrgRole::Admin)],
        );
        assert!(
            allowed(&p, Action::DeploymentRead, Some("zzz")),
            "sovereign admins read everywhere"
        );
        assert!(!allowed(&p, Action::DeploymentWipe, Some("a")));
        assert!(allowed(&p, Action::DeploymentWipe, Some("b")));
        assert!(!allowed_everywhere(&p, Action::DeploymentWipe));
        assert_eq!(
            org_ids_allowing(&p, Action::DeploymentWipe),
            vec!["b".to_string()]
        );
        assert_eq!(
            org_ids_allowing(&p, Action::DeploymentRead),
            vec!["a".to_string(), "b".to_string()]
        );
    }

    /// The grant rule on real principals: within the organisation where the role is held, and naming what
    /// is missing. A sovereign admin cannot make itself or anyone an organisation admin.
    #[test]
    fn principals_grant_only_what_they_hold_where_they_hold_it() {
        let sov = principal(Some(PlatformRole::SovereignAdmin), &[]);
        assert!(may_grant(&sov, "a", OrgRole::Viewer));
        for role in [OrgRole::Editor, OrgRole::Admin, OrgRole::Owner] {
            assert!(!may_grant(&sov, "a", role), "sovereign admin grants {role:?}");
        }
        assert_eq!(
            require_grant(&sov, "a", OrgRole::Admin),
            Err(AppError::Forbidden("wizard.use".into()))
        );
        assert!(!may_grant_platform(&sov, PlatformRole::SovereignAdmin));
        assert_eq!(
            require_grant_platform(&sov, PlatformRole::Superadmin),
            Err(AppError::Forbidden("users.manage".into()))
        );

        let admin = principal(None, &[("a", OrgRole::Admin)]);
        assert!(may_grant(&admin, "a", OrgRole::Admin));
        assert!(
            !may_grant(&admin, "b", OrgRole::Viewer),
            "nothing in another organisation"
        );
        assert_eq!(
            require_grant(&admin, "b", OrgRole::Viewer),
            Err(AppError::Forbidden("org.members.manage".into()))
        );
        assert_eq!(
            require_grant(&admin, "a", OrgRole::Owner),
            Err(AppError::Forbidden("org.owners.manage".into()))
        );

        // A sovereign admin who is also an admin of one organisation grants admin there, and only there.
        let both = principal(Some(PlatformRole::SovereignAdmin), &[("a", OrgRole::Admin)]);
        assert!(may_grant(&both, "a", OrgRole::Admin));
        assert!(!may_grant(&both, "b", OrgRole::Admin));
        assert!(may_grant(&both, "b", OrgRole::Viewer));

        let owner = principal(None, &[("a", OrgRole::Owner)]);
        for role in OrgRole::ALL {
            assert!(may_grant(&owner, "a", role));
        }
        let sup = principal(Some(PlatformRole::Superadmin), &[]);
        for role in OrgRole::ALL {
            assert!(may_grant(&sup, "a", role));
        }
        for role in PlatformRole::ALL {
            assert!(may_grant_platform(&sup, role));
            assert!(!may_grant_platform(&owner, role));
        }
    }

    #[test]
    fn forbidden_names_the_permission() {
        let p = principal(None, &[("a", OrgRole::Viewer)]);
        let e = require(&p, Action::DeploymentWipe, Some("a")).expect_err("viewers cannot wipe");
        assert_eq!(
            e.to_string(),
            "You do not have the permission “deployments.wipe”."
        );
        assert_eq!(e.status(), http::StatusCode::FORBIDDEN);
    }
}
