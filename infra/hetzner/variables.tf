# Inputs of the module. Catalyst writes every one of them into `tofu.auto.tfvars.json`
# (server/src/tofu/tfvars.rs); a contract test (server/tests/infra_contract.rs) checks that the keys it
# writes are exactly these variables and that the allowed values below equal Catalyst's own lists
# (app/src/cloud.rs, app/src/deployments/request.rs).
#
# Validations only look at their own variable (OpenTofu >= 1.6); rules that span variables are
# preconditions in main.tf.

# --- identity -------------------------------------------------------------------------------------------

variable "deployment_id" {
  description = "Catalyst's id of this deployment. Every resource carries it as the label catalyst.dev/deployment-id, which is what the wipe sweeps by."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.deployment_id))
    error_message = "deployment_id must be 1-63 lowercase letters, digits and dashes, starting and ending with a letter or digit (it is used as a label value)."
  }
}

variable "sovereign_fqdn" {
  description = "The Sovereign's domain, e.g. acme.omani.works. The console answers at console.<fqdn>."
  type        = string
  nullable    = false

  validation {
    condition     = length(var.sovereign_fqdn) <= 63 && can(regex("^[a-z]([a-z0-9-]*[a-z0-9])?(\\.[a-z]([a-z0-9-]*[a-z0-9])?)+$", var.sovereign_fqdn))
    error_message = "sovereign_fqdn must be a lowercase domain of at least two labels, at most 63 characters (it is used as a label value), e.g. acme.omani.works."
  }
}

variable "name_prefix" {
  description = "Prefix of every resource name: catalyst-<fqdn with dots as dashes>, shortened with a hash suffix when long. Computed by Catalyst so that the wipe sweep and this module agree."
  type        = string
  nullable    = false

  validation {
    condition     = length(var.name_prefix) <= 41 && can(regex("^catalyst-[a-z0-9]([a-z0-9-]*[a-z0-9])?$", var.name_prefix))
    error_message = "name_prefix must start with \"catalyst-\", use lowercase letters, digits and dashes, and be at most 41 characters."
  }
}

variable "sovereign_subdomain" {
  description = "Pool mode: the label under the pool domain (acme in acme.omani.works). Empty in BYO modes."
  type        = string
  default     = ""
  nullable    = false
}

variable "org_name" {
  description = "The organisation that owns the Sovereign (recorded on the nodes)."
  type        = string
  nullable    = false

  validation {
    condition     = length(trimspace(var.org_name)) > 0
    error_message = "org_name must not be empty."
  }
}

variable "org_email" {
  description = "Admin contact: the Let's Encrypt account and first sovereign-admin."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$", var.org_email))
    error_message = "org_email must be an e-mail address such as ops@example.com."
  }
}

variable "topology" {
  description = "The topology template chosen in the wizard (recorded on the nodes)."
  type        = string
  nullable    = false

  validation {
    condition     = contains(["citadel", "dual", "zoned", "compact", "solo"], var.topology)
    error_message = "topology must be one of citadel, dual, zoned, compact, solo."
  }
}

# --- Hetzner --------------------------------------------------------------------------------------------

variable "hcloud_token" {
  description = "Hetzner Cloud API token (read & write) of the customer's project. Also handed to Crossplane in the cluster as crossplane-system/hcloud-credentials."
  type        = string
  sensitive   = true
  nullable    = false

  validation {
    condition     = length(trimspace(var.hcloud_token)) >= 64
    error_message = "hcloud_token must be a Hetzner Cloud API token (64 characters)."
  }
}

variable "hcloud_project_id" {
  description = "The customer's Hetzner project id (recorded on the nodes; the token itself selects the project)."
  type        = string
  nullable    = false

  validation {
    condition     = length(trimspace(var.hcloud_project_id)) > 0
    error_message = "hcloud_project_id must not be empty."
  }
}

variable "regions" {
  description = <<-EOT
    One k3s cluster per entry; the first entry is the primary region (its kubeconfig is PUT back without
    ?region=). key: unique short id used in resource names and the kubeconfig PUT-back (?region=<key>);
    airgap: the isolated region of the AIR-GAP add-on (no load balancer, no public ingress).
  EOT
  type = list(object({
    key                = string
    provider           = string
    cloud_region       = string
    control_plane_size = string
    worker_size        = string
    worker_count       = number
    airgap             = bool
  }))
  nullable = false

  validation {
    condition     = length(var.regions) >= 1 && length(var.regions) <= 8
    error_message = "regions must have between 1 and 8 entries."
  }

  validation {
    condition     = length(distinct([for r in var.regions : r.key])) == length(var.regions)
    error_message = "Every region key must be unique."
  }

  validation {
    condition     = alltrue([for r in var.regions : can(regex("^[a-z0-9]([a-z0-9-]{0,14}[a-z0-9])?$", r.key))])
    error_message = "A region key must be 1-16 lowercase letters, digits and dashes, starting and ending with a letter or digit."
  }

  validation {
    condition     = alltrue([for r in var.regions : contains(["hetzner"], r.provider)])
    error_message = "This module provisions Hetzner Cloud only: every region's provider must be hetzner."
  }

  validation {
    condition     = alltrue([for r in var.regions : contains(["fsn1", "nbg1", "hel1", "ash", "hil"], r.cloud_region)])
    error_message = "Every region's cloud_region must be a Hetzner location: fsn1, nbg1, hel1, ash or hil."
  }

  validation {
    condition = alltrue([for r in var.regions : contains([
      "cx23", "cx33", "cx43", "cx53",
      "cpx22", "cpx32", "cpx42", "cpx52", "cpx62",
      "cax11", "cax21", "cax31", "cax41",
      "ccx13", "ccx23", "ccx33", "ccx43", "ccx53", "ccx63",
    ], r.control_plane_size)])
    error_message = "Every region's control_plane_size must be a Hetzner server type Catalyst offers (e.g. cpx32)."
  }

  validation {
    condition = alltrue([for r in var.regions : r.worker_count == 0 || contains([
      "cx23", "cx33", "cx43", "cx53",
      "cpx22", "cpx32", "cpx42", "cpx52", "cpx62",
      "cax11", "cax21", "cax31", "cax41",
      "ccx13", "ccx23", "ccx33", "ccx43", "ccx53", "ccx63",
    ], r.worker_size)])
    error_message = "Every region with workers needs a worker_size that is a Hetzner server type Catalyst offers (e.g. cpx32)."
  }

  validation {
    condition     = alltrue([for r in var.regions : r.worker_count >= 0 && r.worker_count <= 50 && floor(r.worker_count) == r.worker_count])
    error_message = "worker_count must be a whole number from 0 to 50 in every region."
  }
}

variable "ha_enabled" {
  description = "Three control-plane nodes per region (embedded etcd quorum) instead of one."
  type        = bool
  default     = false
  nullable    = false
}

variable "image" {
  description = "Hetzner image of every node."
  type        = string
  default     = "ubuntu-24.04"
  nullable    = false
}

variable "load_balancer_type" {
  description = "Hetzner load balancer type in front of each non-air-gapped region's control planes."
  type        = string
  default     = "lb11"
  nullable    = false
}

# --- access ---------------------------------------------------------------------------------------------

variable "ssh_public_key" {
  description = "OpenSSH public key for break-glass root access to every node."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^(ssh-ed25519|ssh-rsa|ecdsa-sha2-nistp256|ecdsa-sha2-nistp384|ecdsa-sha2-nistp521) [A-Za-z0-9+/=]{30,}( .*)?$", trimspace(var.ssh_public_key)))
    error_message = "ssh_public_key must be one OpenSSH public key line: ssh-ed25519, ssh-rsa or ecdsa-sha2-nistp256/384/521 followed by its base64 blob."
  }
}

variable "ssh_allowed_cidrs" {
  description = "Networks allowed to reach SSH (22) on the nodes. Empty: no SSH from anywhere."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for c in var.ssh_allowed_cidrs : can(cidrhost(c, 0))])
    error_message = "Every entry of ssh_allowed_cidrs must be a CIDR such as 203.0.113.0/24 or 2001:db8::/32."
  }
}

variable "api_allowed_cidrs" {
  description = "Networks allowed to reach each region's Kubernetes API (6443) at its API address: Catalyst's egress addresses. Empty: the API answers nobody outside the region, and Catalyst cannot watch the Sovereign come up."
  type        = list(string)
  default     = []
  nullable    = false

  validation {
    condition     = alltrue([for c in var.api_allowed_cidrs : can(cidrhost(c, 0))])
    error_message = "Every entry of api_allowed_cidrs must be a CIDR such as 203.0.113.7/32 or 2001:db8::/48."
  }
}

# --- DNS ------------------------------------------------------------------------------------------------

variable "domain_mode" {
  description = "How the Sovereign's domain is delegated: pool (a subdomain of a Catalyst pool domain), byo-manual or byo-api (the customer's own domain)."
  type        = string
  default     = "pool"
  nullable    = false

  validation {
    condition     = contains(["pool", "byo-manual", "byo-api"], var.domain_mode)
    error_message = "domain_mode must be pool, byo-manual or byo-api."
  }
}

variable "pool_domain" {
  description = "Pool mode: the pool domain (omani.works). Empty in BYO modes."
  type        = string
  default     = ""
  nullable    = false
}

# --- software versions ----------------------------------------------------------------------------------

variable "k3s_version" {
  description = "k3s release installed on every node."
  type        = string
  default     = "v1.31.4+k3s1"
  nullable    = false

  validation {
    condition     = can(regex("^v\\d+\\.\\d+\\.\\d+\\+k3s\\d+$", var.k3s_version))
    error_message = "k3s_version must look like v1.31.4+k3s1."
  }
}

variable "cilium_version" {
  description = "Cilium chart version installed by cloud-init. Must equal the catalog's cilium chart version (platform/cilium/blueprint.yaml): the bootstrap kit's HelmRelease adopts this release."
  type        = string
  default     = "1.16.5"
  nullable    = false

  validation {
    condition     = can(regex("^\\d+\\.\\d+\\.\\d+$", var.cilium_version))
    error_message = "cilium_version must look like 1.16.5."
  }
}

variable "flux_version" {
  description = "Flux release whose install.yaml cloud-init applies."
  type        = string
  default     = "v2.6.4"
  nullable    = false

  validation {
    condition     = can(regex("^v\\d+\\.\\d+\\.\\d+$", var.flux_version))
    error_message = "flux_version must look like v2.6.4."
  }
}

variable "helm_version" {
  description = "Helm release cloud-init uses once, to install Cilium before any CNI exists."
  type        = string
  default     = "v3.18.4"
  nullable    = false

  validation {
    condition     = can(regex("^v\\d+\\.\\d+\\.\\d+$", var.helm_version))
    error_message = "helm_version must look like v3.18.4."
  }
}

# --- Catalyst hand-back ---------------------------------------------------------------------------------

variable "catalyst_api_url" {
  description = "The console's base URL including /sovereign. Cloud-init PUTs each region's kubeconfig to <catalyst_api_url>/api/v1/deployments/<deployment_id>/kubeconfig[?region=<key>]."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^https?://[A-Za-z0-9.-]+(:[0-9]+)?(/[A-Za-z0-9._~%@+-]+)*$", var.catalyst_api_url))
    error_message = "catalyst_api_url must be an http(s) URL without a trailing slash, e.g. https://console.example.com/sovereign."
  }
}

variable "kubeconfig_bearer_tokens" {
  description = "Region key => the single-use bearer that region's first control plane presents when it PUTs its kubeconfig back to Catalyst. Catalyst issues new ones on every run for the regions that have not reported back; a region without one does not PUT. Passed as TF_VAR_kubeconfig_bearer_tokens, never written to a file."
  type        = map(string)
  default     = {}
  sensitive   = true
  nullable    = false

  validation {
    condition     = alltrue([for t in values(var.kubeconfig_bearer_tokens) : length(t) >= 32])
    error_message = "Every kubeconfig bearer must be at least 32 characters."
  }
}

# --- GitOps ---------------------------------------------------------------------------------------------

variable "gitops_repo_url" {
  description = "Git repository Flux pulls from: https:// (with gitops_token, or public) or ssh://git@host/… (with gitops_ssh_private_key: this Sovereign's own repository and read-only deploy key). Catalyst renders this Sovereign's tree into it."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^(https?://[A-Za-z0-9.-]+(:[0-9]+)?|ssh://[A-Za-z0-9._-]+@[A-Za-z0-9.-]+(:[0-9]+)?)(/[A-Za-z0-9._~%@+-]+)*/?$", var.gitops_repo_url))
    error_message = "gitops_repo_url must be an http(s) URL or an ssh://user@host/… URL of a Git repository."
  }
}

variable "gitops_branch" {
  description = "Branch Flux follows."
  type        = string
  default     = "main"
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9._/-]+$", var.gitops_branch)) && !startswith(var.gitops_branch, "/") && !endswith(var.gitops_branch, "/")
    error_message = "gitops_branch must be a branch name such as main."
  }
}

variable "gitops_path" {
  description = "Folder of this Sovereign inside the repository: clusters/<fqdn>."
  type        = string
  nullable    = false

  validation {
    condition     = can(regex("^[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", var.gitops_path)) && !strcontains(var.gitops_path, "..")
    error_message = "gitops_path must be a relative folder such as clusters/acme.omani.works."
  }
}

variable "gitops_username" {
  description = "User name for HTTP basic auth when Flux pulls (ignored when gitops_token is empty)."
  type        = string
  default     = "catalyst"
  nullable    = false
}

variable "gitops_token" {
  description = "Read token Flux uses to pull a private repository. Empty: the repository is public."
  type        = string
  default     = ""
  sensitive   = true
  nullable    = false
}

variable "gitops_ssh_private_key" {
  description = "Private half (OpenSSH) of this Sovereign's read-only deploy key, registered on its own repository only; Flux pulls the ssh:// gitops_repo_url with it. Empty: no key (https)."
  type        = string
  default     = ""
  sensitive   = true
  nullable    = false

  validation {
    condition     = var.gitops_ssh_private_key == "" || startswith(trimspace(var.gitops_ssh_private_key), "-----BEGIN OPENSSH PRIVATE KEY-----")
    error_message = "gitops_ssh_private_key must be an OpenSSH private key (-----BEGIN OPENSSH PRIVATE KEY-----) or empty."
  }
}

variable "gitops_ssh_known_hosts" {
  description = "known_hosts lines of the forge's SSH server (Flux refuses an unknown host key). Required with gitops_ssh_private_key."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = !strcontains(var.gitops_ssh_known_hosts, "PRIVATE KEY")
    error_message = "gitops_ssh_known_hosts must hold public host keys (known_hosts lines), not a private key."
  }
}

# --- DNS: the Sovereign's own zone on Catalyst's PowerDNS ---------------------------------------------------

variable "dns_server" {
  description = "Host name or address of Catalyst's PowerDNS that takes RFC 2136 updates (port 53) of the Sovereign's zone: cert-manager's DNS-01 solver and external-dns write there. Empty: no DNS-01 (HTTP-01 certificates)."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = can(regex("^([A-Za-z0-9]([A-Za-z0-9.:-]*[A-Za-z0-9])?)?$", var.dns_server))
    error_message = "dns_server must be empty, or a host name or an IP address without a port (updates go to port 53)."
  }
}

variable "dns_tsig_key_name" {
  description = "Name of the Sovereign's TSIG key in Catalyst's PowerDNS (sovereign-<fqdn>): it may update the Sovereign's zone and no other."
  type        = string
  default     = ""
  nullable    = false

  validation {
    condition     = can(regex("^([A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)?$", var.dns_tsig_key_name))
    error_message = "dns_tsig_key_name must be empty, or a DNS name such as sovereign-acme.omani.works."
  }
}

variable "dns_tsig_secret" {
  description = "The TSIG key's secret (base64, HMAC-SHA256), applied as the Secrets cert-manager/sovereign-dns-tsig and external-dns/sovereign-dns-tsig (key `secret`). Empty: none. Passed as TF_VAR_dns_tsig_secret, never written to a file."
  type        = string
  default     = ""
  sensitive   = true
  nullable    = false

  validation {
    condition     = var.dns_tsig_secret == "" || (length(var.dns_tsig_secret) >= 44 && can(base64decode(var.dns_tsig_secret)))
    error_message = "dns_tsig_secret must be the base64 of at least 32 random bytes."
  }
}

# --- node hardening -------------------------------------------------------------------------------------

variable "enable_unattended_upgrades" {
  description = "Install security updates automatically (reboots at 02:30 when needed)."
  type        = bool
  default     = true
  nullable    = false
}

variable "enable_fail2ban" {
  description = "Ban addresses that fail SSH logins repeatedly."
  type        = bool
  default     = true
  nullable    = false
}
