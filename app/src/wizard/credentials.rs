//! Step 4 — Credentials: the Hetzner token (checked by the server against the Hetzner API, never stored),
//! the Hetzner project id, and the SSH key (generated on the server and offered once, or pasted).

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::api::{check_hetzner_token, generate_ssh_key};
use super::browser;
use super::fields::{FieldMessage, aria_invalid, live};
use super::ids::error_id;
use super::state::use_wizard;
use super::types::{SshKeyOrigin, TokenCheck, TokenFailure};
use crate::deployments::fields::ssh_fingerprint;
use crate::error::AppError;

#[component]
pub fn CredentialsStep() -> impl IntoView {
    view! {
        <div class="stack">
            <HetznerToken />
            <SshKey />
        </div>
    }
}

#[component]
fn HetznerToken() -> impl IntoView {
    let state = use_wizard();
    let secrets = state.secrets;
    let d = state.draft;
    let reveal = RwSignal::new(false);
    let checking = RwSignal::new(false);
    let copied = RwSignal::new(false);
    let check = move || secrets.with(|s| s.token_check.clone());
    let run_check = move || {
        let token = secrets.with_untracked(|s| s.hetzner_token.clone());
        state.touch("secrets.hetznerToken");
        checking.set(true);
        spawn_local(async move {
            let answer = match check_hetzner_token(token).await {
                Ok(c) => c,
                Err(AppError::ServerFn(e)) => TokenCheck::failed(TokenFailure::Network, None, e.to_string()),
                Err(e) => TokenCheck::failed(TokenFailure::Parse, Some(e.status().as_u16()), e.to_string()),
            };
            checking.set(false);
            secrets.update(|s| s.token_check = Some(answer));
        });
    };
    let token = Memo::new(move |_| secrets.with(|s| s.hetzner_token.clone()));
    let project = Memo::new(move |_| d.with(|d| d.request.hetzner_project_id.clone()));
    view! {
        <section class="card" data-testid="token-section" aria-labelledby="token-h">
            <h2 class="card-title" id="token-h">
                "Hetzner Cloud API token "
                <span class="req">"required"</span>
            </h2>
            <p class="field-hint">
                "Read & Write API token (64+ characters). It is used for this check and sent once with Launch; "
                "it is never saved — after a reload you enter it again."
            </p>
            <div class="field">
                <label class="label" for="f-secrets-hetznerToken">
                    "API token"
                </label>
                <div class="input-row">
                    <input
                        id="f-secrets-hetznerToken"
                        class="input mono"
                        type=move || if reveal.get() { "text" } else { "password" }
                        autocomplete="off"
                        spellcheck="false"
                        name="secrets.hetznerToken"
                        prop:value=live(move || token.get())
                        aria-invalid=aria_invalid("secrets.hetznerToken")
                        aria-describedby=error_id("secrets.hetznerToken")
                        on:input=move |ev| {
                            state.touch("secrets.hetznerToken");
                            secrets
                                .update(|s| {
                                    s.hetzner_token = event_target_value(&ev);
                                    s.token_check = None;
                                });
                        }
                    />
                    <button
                        type="button"
                        class="btn btn-secondary"
                        aria-pressed=move || reveal.get().to_string()
                        on:click=move |_| reveal.update(|r| *r = !*r)
                    >
                        {move || if reveal.get() { "Hide" } else { "Show" }}
                    </button>
                    <button
                        type="button"
                        class="btn btn-primary"
                        data-testid="validate-token"
                        disabled=move || checking.get()
                        on:click=move |_| run_check()
                    >
                        {move || match (checking.get(), check()) {
                            (true, _) => "Checking…",
                            (false, Some(c)) if c.valid => "Validated ✓",
                            (false, Some(_)) => "Retry",
                            (false, None) => "Validate",
                        }}
                    </button>
                </div>
                <FieldMessage field="secrets.hetznerToken" />
            </div>
            {move || {
                check()
                    .map(|c| {
                        if c.valid {
                            view! {
                                <p class="alert alert-ok" data-testid="token-ok">
                                    "Token validated — read/write access confirmed."
                                </p>
                            }
                                .into_any()
                        } else {
                            let kind = c.failure.unwrap_or(TokenFailure::Http);
                            let diagnostic = serde_json::json!(
                                {
                        "kind": kind.id(), "summary": kind.summary(), "status": c.status, "rawMessage": c.message,
                    }
                            )
                                .to_string();
                            view! {
                                <div
                                    class="error-card"
                                    role="alert"
                                    data-testid="token-error"
                                    data-kind=kind.id()
                                >
                                    <p class="error-card-title">
                                        {kind.summary()}
                                        {c
                                            .status
                                            .map(|s| {
                                                view! {
                                                    <span class="wz-chip wz-chip-err">
                                                        {format!("HTTP {s}")}
                                                    </span>
                                                }
                                            })}
                                    </p>
                                    <p>{kind.hint()}</p>
                                    <pre class="raw">{c.message.clone()}</pre>
                                    <div class="row">
                                        <button
                                            type="button"
                                            class="btn btn-secondary"
                                            on:click=move |_| run_check()
                                        >
                                            "Retry validation"
                                        </button>
                                        <button
                                            type="button"
                                            class="btn btn-ghost"
                                            data-testid="copy-diagnostic"
                                            on:click=move |_| {
                                                browser::copy_text(&diagnostic);
                                                copied.set(true);
                                                set_timeout(
                                                    move || copied.set(false),
                                                    std::time::Duration::from_secs(2),
                                                );
                                            }
                                        >
                                            {move || if copied.get() { "Copied" } else { "Copy diagnostic" }}
                                        </button>
                                    </div>
                                    <p class="field-hint">
                                        "The token is not stored on our servers either way."
                                    </p>
                                </div>
                            }
                                .into_any()
                        }
                    })
            }}
            <details class="howto" open=move || !check().is_some_and(|c| c.valid)>
                <summary>"How to create a token"</summary>
                <ol>
                    <li>"Open the Hetzner Cloud console (console.hetzner.cloud) and sign in."</li>
                    <li>"Select the project the Sovereign will live in (or create one)."</li>
                    <li>"Go to Security → API tokens."</li>
                    <li>"Click Generate API token and give it a name like catalyst."</li>
                    <li>"Choose Read & Write permission."</li>
                    <li>"Copy the token at once (Hetzner shows it only once) and paste it above."</li>
                </ol>
            </details>
            <div class="field">
                <label class="label" for="f-hetznerProjectId">
                    "Hetzner project ID "
                    <span class="req">"required"</span>
                </label>
                <input
                    id="f-hetznerProjectId"
                    class="input mono"
                    placeholder="1234567"
                    name="hetznerProjectId"
                    value=project
                    prop:value=live(move || project.get())
                    aria-invalid=aria_invalid("hetznerProjectId")
                    aria-describedby=error_id("hetznerProjectId")
                    on:input=move |ev| {
                        state
                            .edit(
                                "hetznerProjectId",
                                |d| d.request.hetzner_project_id = event_target_value(&ev),
                            )
                    }
                />
                <p class="field-hint">
                    "The number in the console URL: console.hetzner.cloud/projects/<id>."
                </p>
                <FieldMessage field="hetznerProjectId" />
            </div>
        </section>
    }
}

#[component]
fn SshKey() -> impl IntoView {
    let state = use_wizard();
    let d = state.draft;
    let secrets = state.secrets;
    let origin_memo = Memo::new(move |_| d.with(|d| d.ssh_key.clone()));
    let origin = move || origin_memo.get();
    // Tab: generate unless the key in the draft was pasted.
    let paste_tab = RwSignal::new(d.with_untracked(|d| d.ssh_key == SshKeyOrigin::Pasted));
    let alive = RwSignal::new(false);
    Effect::new(move |_| alive.set(true));
    let generating = RwSignal::new(false);
    let gen_error = RwSignal::new(None::<String>);
    let pasted = RwSignal::new(d.with_untracked(|d| {
        if d.ssh_key == SshKeyOrigin::Pasted {
            d.request.ssh_public_key.clone()
        } else {
            String::new()
        }
    }));
    // Shown beside a valid pasted key; `None` while the text is not a key the provisioner accepts.
    let pasted_fingerprint = Memo::new(move |_| pasted.with(|p| ssh_fingerprint(p)));
    let fqdn = move || d.with(|d| d.request.fqdn());
    let file_name = move || {
        let f = fqdn();
        if f.starts_with('.') || f.ends_with('.') || f.is_empty() {
            "catalyst.pem".to_string()
        } else {
            format!("{f}.pem")
        }
    };
    let generate = move |_| {
        generating.set(true);
        gen_error.set(None);
        let f = fqdn();
        spawn_local(async move {
            let result = generate_ssh_key(f).await;
            generating.set(false);
            match result {
                Ok(key) => {
                    secrets.update(|s| {
                        s.private_key = Some(key.private_key.expose().to_string());
                        s.private_key_downloaded = false;
                    });
                    state.edit("sshPublicKey", |d| {
                        d.request.ssh_public_key = key.public_key.clone();
                        d.ssh_key = SshKeyOrigin::Generated {
                            fingerprint: key.fingerprint.clone(),
                        };
                    });
                    // Offer the private key at once.
                    set_timeout(
                        move || browser::click("ssh-private-download"),
                        std::time::Duration::from_millis(30),
                    );
                }
                Err(e) => gen_error.set(Some(format!("Could not generate the key pair: {e}"))),
            }
        });
    };
    view! {
        <section class="card" data-testid="ssh-key-section" aria-labelledby="ssh-h">
            <h2 class="card-title" id="ssh-h">
                "SSH access "
                <span class="req">"required"</span>
            </h2>
            <p class="field-hint">
                "A break-glass key for the nodes. Only key types the provisioner accepts: Ed25519, ECDSA P-256, RSA."
            </p>
            <div class="tabs" role="tablist" aria-label="SSH key source">
                <button
                    type="button"
                    role="tab"
                    id="tab-generate"
                    class="tab"
                    aria-selected=move || (!paste_tab.get()).to_string()
                    data-testid="ssh-tab-generate"
                    on:click=move |_| paste_tab.set(false)
                >
                    "Generate key pair "
                    <span class="tag">"recommended"</span>
                </button>
                <button
                    type="button"
                    role="tab"
                    id="tab-paste"
                    class="tab"
                    aria-selected=move || paste_tab.get().to_string()
                    data-testid="ssh-tab-paste"
                    on:click=move |_| paste_tab.set(true)
                >
                    "Paste existing public key"
                </button>
            </div>
            <div role="tabpanel" hidden=move || paste_tab.get() aria-labelledby="tab-generate">
                <button
                    type="button"
                    class="btn btn-primary"
                    id=move || if paste_tab.get() { "" } else { "f-sshPublicKey" }
                    data-testid="ssh-generate"
                    disabled=move || generating.get()
                    on:click=generate
                >
                    {move || match (generating.get(), matches!(origin(), SshKeyOrigin::Generated { .. })) {
                        (true, _) => "Generating…",
                        (false, true) => "Re-generate",
                        (false, false) => "Generate key pair",
                    }}
                </button>
                <p class="field-error" hidden=move || gen_error.with(|e| e.is_none())>
                    {move || gen_error.get()}
                </p>
                {move || match origin() {
                    SshKeyOrigin::Generated { fingerprint } => {
                        let pk = secrets.with(|s| s.private_key.clone());
                        view! {
                            <div class="stack-sm" data-testid="ssh-generated">
                                {match pk {
                                    Some(key) => {
                                        view! {
                                            <div class="alert alert-warn">
                                                <strong>
                                                    "Private key shown once. Save it now or you lose access."
                                                </strong>
                                                " Then run "
                                                <code>{format!("chmod 600 {}", file_name())}</code>
                                                "."
                                                <div class="row">
                                                    <a
                                                        id="ssh-private-download"
                                                        class="btn btn-secondary"
                                                        download=file_name()
                                                        href=browser::data_url("application/x-pem-file", &key)
                                                        on:click=move |_| {
                                                            secrets.update(|s| s.private_key_downloaded = true)
                                                        }
                                                    >
                                                        {move || {
                                                            if secrets.with(|s| s.private_key_downloaded) {
                                                                "Download again"
                                                            } else {
                                                                "Download private key"
                                                            }
                                                        }}
                                                    </a>
                                                </div>
                                            </div>
                                        }
                                            .into_any()
                                    }
                                    None => {
                                        view! {
                                            <p class="alert alert-warn">
                                                "The private key was offered once when it was generated and is kept nowhere. If you did not save it, generate a new pair."
                                            </p>
                                        }
                                            .into_any()
                                    }
                                }}
                                <label class="label" for="ssh-public-generated">
                                    "Public key"
                                </label>
                                <textarea
                                    id="ssh-public-generated"
                                    class="input mono"
                                    rows="2"
                                    readonly=true
                                    prop:value=live(move || d.with(|d| d.request.ssh_public_key.clone()))
                                >
                                    {d.with_untracked(|d| d.request.ssh_public_key.clone())}
                                </textarea>
                                <p class="field-hint">
                                    "Fingerprint " <code data-testid="ssh-fingerprint">{fingerprint}</code>
                                </p>
                            </div>
                        }
                            .into_any()
                    }
                    _ => view! { <span></span> }.into_any(),
                }}
            </div>
            // Without JavaScript the tabs cannot switch: the paste panel shows until the page is alive.
            <div
                role="tabpanel"
                hidden=move || alive.get() && !paste_tab.get()
                aria-labelledby="tab-paste"
                class="field"
            >
                <label class="label" for=move || if paste_tab.get() { "f-sshPublicKey" } else { "ssh-paste" }>
                    "OpenSSH public key"
                </label>
                <textarea
                    id=move || if paste_tab.get() { "f-sshPublicKey" } else { "ssh-paste" }
                    class="input mono"
                    rows="3"
                    data-testid="ssh-paste"
                    placeholder="ssh-ed25519 AAAA… you@laptop"
                    spellcheck="false"
                    aria-invalid=aria_invalid("sshPublicKey")
                    aria-describedby=error_id("sshPublicKey")
                    name="sshPublicKey"
                    prop:value=live(move || pasted.get())
                    on:input=move |ev| {
                        let v = event_target_value(&ev);
                        pasted.set(v.clone());
                        state
                            .edit(
                                "sshPublicKey",
                                |d| {
                                    d.request.ssh_public_key = v.trim().to_string();
                                    d.ssh_key = SshKeyOrigin::Pasted;
                                },
                            );
                        secrets.update(|s| s.private_key = None);
                    }
                >
                    {pasted.get_untracked()}
                </textarea>
                <p
                    class="text-ok field-hint"
                    data-testid="ssh-paste-ok"
                    hidden=move || !paste_tab.get() || pasted_fingerprint.with(Option::is_none)
                >
                    "Looks like a valid OpenSSH public key. Fingerprint "
                    <code data-testid="ssh-paste-fingerprint">
                        {move || pasted_fingerprint.get().unwrap_or_default()}
                    </code>
                    " — compare it with "
                    <code>"ssh-keygen -lf your-key.pub"</code>
                    "."
                </p>
            </div>
            <FieldMessage field="sshPublicKey" />
        </section>
    }
}
