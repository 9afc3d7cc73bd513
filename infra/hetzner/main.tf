# Resources of one Sovereign. Every region in var.regions is its own k3s cluster with its own private
# network, firewall, placement group and (unless air-gapped) load balancer; the first region is the primary.
#
# Names:  <name_prefix>-ssh, <name_prefix>-<region>-{net,fw,cp,lb,api}, <name_prefix>-<region>-cp<n>,
#         <name_prefix>-<region>-w<n>
# Labels: catalyst.dev/deployment-id, catalyst.dev/sovereign, catalyst.dev/role (+ catalyst.dev/region)
# The wipe sweep (server/src/hetzner/sweep.rs) finds leftovers by the deployment-id label and by these names.

locals {
  # Hetzner location -> network zone (a subnet must be in the zone of the servers attached to it).
  network_zones = {
    fsn1 = "eu-central"
    nbg1 = "eu-central"
    hel1 = "eu-central"
    ash  = "us-east"
    hil  = "us-west"
  }

  common_labels = {
    "catalyst.dev/deployment-id" = var.deployment_id
    "catalyst.dev/sovereign"     = var.sovereign_fqdn
  }

  primary_key = var.regions[0].key

  # Flux pulls over SSH with this Sovereign's own read-only deploy key, or over https with gitops_token.
  gitops_ssh  = var.gitops_ssh_private_key != ""
  gitops_auth = local.gitops_ssh || var.gitops_token != ""

  # Region i: nodes in 10.i.1.0/24 (control planes .2-.4, workers .10-.59, load balancer .254, private
  # Kubernetes API load balancer .253);
  # pods and services in ranges that differ per region, so the clusters can be meshed later.
  regions = {
    for i, r in var.regions : r.key => {
      index              = i
      key                = r.key
      primary            = i == 0
      location           = r.cloud_region
      network_zone       = local.network_zones[r.cloud_region]
      control_plane_size = r.control_plane_size
      worker_size        = r.worker_size
      worker_count       = r.worker_count
      airgap             = r.airgap
      network_cidr       = "10.${i}.0.0/16"
      subnet_cidr        = "10.${i}.1.0/24"
      first_cp_ip        = "10.${i}.1.2"
      lb_private_ip      = "10.${i}.1.254"
      api_lb_private_ip  = "10.${i}.1.253"
      cluster_cidr       = "10.${100 + 2 * i}.0.0/16"
      service_cidr       = "10.${101 + 2 * i}.0.0/16"
      cluster_dns        = "10.${101 + 2 * i}.0.10"
    }
  }

  public_regions = { for k, r in local.regions : k => r if !r.airgap }

  control_planes_per_region = var.ha_enabled ? 3 : 1

  control_planes = {
    for cp in flatten([
      for k, r in local.regions : [
        for n in range(1, local.control_planes_per_region + 1) : {
          name   = "${k}-cp${n}"
          region = k
          n      = n
          ip     = "10.${r.index}.1.${n + 1}"
        }
      ]
    ]) : cp.name => cp
  }

  workers = {
    for w in flatten([
      for k, r in local.regions : [
        for n in range(1, r.worker_count + 1) : {
          name   = "${k}-w${n}"
          region = k
          n      = n
          ip     = "10.${r.index}.1.${n + 9}"
        }
      ]
    ]) : w.name => w
  }

  # What each public region's load balancer forwards to the control planes (over the private network): the
  # Gateway's NodePorts. Never the Kubernetes API: a Hetzner firewall cannot filter a load balancer, so
  # whatever a public load balancer forwards is open to the internet.
  lb_ports = [
    { name = "http", listen = 80, destination = 31080 },
    { name = "https", listen = 443, destination = 31443 },
  ]
  lb_services = {
    for pair in setproduct(keys(local.public_regions), local.lb_ports) :
    "${pair[0]}-${pair[1].name}" => {
      region      = pair[0]
      listen      = pair[1].listen
      destination = pair[1].destination
    }
  }

  lb_public_ip = { for k, lb in hcloud_load_balancer.region : k => lb.ipv4 }

  # With three control planes a region gets a private-only load balancer for its Kubernetes API (no public
  # interface), so nodes and Cilium keep reaching the API when one control plane is down.
  api_lb_regions = { for k, r in local.regions : k => r if var.ha_enabled }

  # Address every node of a region uses for the Kubernetes API: that private load balancer, or the only
  # control plane.
  api_private_host = {
    for k, r in local.regions : k => var.ha_enabled ? r.api_lb_private_ip : r.first_cp_ip
  }

  # Where Catalyst reaches each region's Kubernetes API: the first control plane's own public IPv4 (a primary
  # IP kept across a replacement of the server), open on 6443 only to var.api_allowed_cidrs. It is the
  # kubeconfig's server and the `regions[<key>].api_endpoint` output.
  api_public_host = { for k, ip in hcloud_primary_ip.api : k => ip.ip_address }

  # Non-secret settings of a region, handed to cloud-init (/etc/catalyst/bootstrap.json) and to Flux
  # (ConfigMap flux-system/sovereign-settings, used by postBuild.substituteFrom).
  sovereign_settings = {
    for k, r in local.regions : k => {
      SOVEREIGN_FQDN          = var.sovereign_fqdn
      SOVEREIGN_DEPLOYMENT_ID = var.deployment_id
      SOVEREIGN_REGION_KEY    = k
      SOVEREIGN_PRIMARY       = r.primary ? "true" : "false"
      SOVEREIGN_AIRGAP        = r.airgap ? "true" : "false"
      SOVEREIGN_LB_IP         = lookup(local.lb_public_ip, k, "")
      SOVEREIGN_ADMIN_EMAIL   = var.org_email
      SOVEREIGN_DOMAIN_MODE   = var.domain_mode
      K8S_SERVICE_HOST        = local.api_private_host[k]
      K8S_SERVICE_PORT        = "6443"
      CLUSTER_CIDR            = r.cluster_cidr
      GITOPS_PATH             = var.gitops_path

      # RFC 2136 updates of the Sovereign's zone (DNS-01, external-dns); empty without a TSIG key.
      SOVEREIGN_DNS_SERVER       = var.dns_tsig_key_name == "" ? "" : var.dns_server
      SOVEREIGN_DNS_TSIG_KEYNAME = var.dns_tsig_key_name
    }
  }

  # Manifests the first control plane of each region applies once Flux is installed.
  flux_bootstrap = {
    for k, r in local.regions : k => join("\n---\n", concat(
      [
        yamlencode({
          apiVersion = "v1"
          kind       = "ConfigMap"
          metadata   = { name = "sovereign-settings", namespace = "flux-system" }
          data       = local.sovereign_settings[k]
        }),
        yamlencode({
          apiVersion = "source.toolkit.fluxcd.io/v1"
          kind       = "GitRepository"
          metadata   = { name = "flux-system", namespace = "flux-system" }
          spec = merge(
            {
              interval = "1m"
              url      = var.gitops_repo_url
              ref      = { branch = var.gitops_branch }
            },
            # Only a private repository (gitops_token or the deploy key set) needs the credentials secret.
            { for k, v in { secretRef = { name = "gitops-auth" } } : k => v if local.gitops_auth },
          )
        }),
        # The entry point: clusters/<fqdn>/kustomization.yaml lists flux-system/, whose Kustomizations
        # (this one included, so Git owns it from now on) bring up the bootstrap kit, then infrastructure.
        yamlencode({
          apiVersion = "kustomize.toolkit.fluxcd.io/v1"
          kind       = "Kustomization"
          metadata   = { name = "flux-system", namespace = "flux-system" }
          spec = {
            interval  = "10m"
            path      = "./${var.gitops_path}"
            prune     = true
            sourceRef = { kind = "GitRepository", name = "flux-system" }
            postBuild = { substituteFrom = [{ kind = "ConfigMap", name = "sovereign-settings" }] }
          }
        }),
      ],
    ))
  }

  # Secrets the first control plane of each region applies; written to a 0600 file by cloud-init.
  cluster_secrets = { for k, r in local.regions : k => join("\n---\n", concat(
    [
      yamlencode({
        apiVersion = "v1"
        kind       = "Namespace"
        metadata   = { name = "crossplane-system" }
      }),
      # Crossplane's ProviderConfig (clusters/<fqdn>/infrastructure) reads the project token from here.
      yamlencode({
        apiVersion = "v1"
        kind       = "Secret"
        type       = "Opaque"
        metadata   = { name = "hcloud-credentials", namespace = "crossplane-system" }
        data       = { token = base64encode(trimspace(var.hcloud_token)) }
      }),
      # The Hetzner CSI driver and cloud controller (bootstrap kit) read the project token and the region's
      # network from here.
      yamlencode({
        apiVersion = "v1"
        kind       = "Secret"
        type       = "Opaque"
        metadata   = { name = "hcloud", namespace = "kube-system" }
        data = {
          token   = base64encode(trimspace(var.hcloud_token))
          network = base64encode("${var.name_prefix}-${k}-net")
        }
      }),
    ],
    # The Sovereign's TSIG key for cert-manager's RFC 2136 DNS-01 solver and external-dns: it updates the
    # Sovereign's own zone on Catalyst's PowerDNS and nothing else.
    var.dns_tsig_secret == "" ? [] : flatten([
      for ns in ["cert-manager", "external-dns"] : [
        yamlencode({
          apiVersion = "v1"
          kind       = "Namespace"
          metadata   = { name = ns }
        }),
        yamlencode({
          apiVersion = "v1"
          kind       = "Secret"
          type       = "Opaque"
          metadata   = { name = "sovereign-dns-tsig", namespace = ns }
          data       = { secret = base64encode(var.dns_tsig_secret) }
        }),
      ]
    ]),
    !local.gitops_auth ? [] : [
      yamlencode({
        apiVersion = "v1"
        kind       = "Secret"
        type       = "Opaque"
        metadata   = { name = "gitops-auth", namespace = "flux-system" }
        # With a deploy key Flux reads `identity` and `known_hosts` (SSH); otherwise basic auth.
        data = local.gitops_ssh ? {
          identity    = base64encode(var.gitops_ssh_private_key)
          known_hosts = base64encode(var.gitops_ssh_known_hosts)
          } : {
          username = base64encode(var.gitops_username)
          password = base64encode(var.gitops_token)
        }
      }),
    ],
  )) }

  # Recorded on every node (/var/lib/catalyst/sovereign.json) for operators.
  sovereign_record = {
    fqdn          = var.sovereign_fqdn
    subdomain     = var.sovereign_subdomain
    domain_mode   = var.domain_mode
    pool_domain   = var.pool_domain
    deployment_id = var.deployment_id
    org_name      = var.org_name
    org_email     = var.org_email
    topology      = var.topology
    project_id    = var.hcloud_project_id
    ha_enabled    = var.ha_enabled
    regions       = [for r in var.regions : { key = r.key, location = r.cloud_region, workers = r.worker_count, airgap = r.airgap }]
    k3s_version   = var.k3s_version
    gitops        = { repo = var.gitops_repo_url, branch = var.gitops_branch, path = var.gitops_path }
  }

  kubeconfig_put_url = {
    for k, r in local.regions : k => "${var.catalyst_api_url}/api/v1/deployments/${var.deployment_id}/kubeconfig${r.primary ? "" : "?region=${k}"}"
  }
}

# --- project-wide -----------------------------------------------------------------------------------------

resource "hcloud_ssh_key" "admin" {
  name       = "${var.name_prefix}-ssh"
  public_key = trimspace(var.ssh_public_key)
  labels     = merge(local.common_labels, { "catalyst.dev/role" = "ssh-key" })

  lifecycle {
    # Rules that span several variables (a variable's own validation may only look at itself).
    precondition {
      condition     = var.domain_mode != "pool" || (var.pool_domain != "" && var.sovereign_subdomain != "" && var.sovereign_fqdn == "${var.sovereign_subdomain}.${var.pool_domain}")
      error_message = "In pool mode sovereign_fqdn must be <sovereign_subdomain>.<pool_domain>, and both must be set."
    }
    precondition {
      condition     = !var.regions[0].airgap
      error_message = "The first region is the primary and serves the console; it cannot be the air-gapped region."
    }
    precondition {
      condition     = alltrue([for k, r in local.regions : length("${var.name_prefix}-${k}-cp3") <= 63 && length("${var.name_prefix}-${k}-w${max(r.worker_count, 1)}") <= 63])
      error_message = "name_prefix plus a region key is too long for a Hetzner server name (63 characters); use shorter region keys."
    }
    precondition {
      condition     = local.gitops_ssh == startswith(var.gitops_repo_url, "ssh://") && (!local.gitops_ssh || (trimspace(var.gitops_ssh_known_hosts) != "" && var.gitops_token == ""))
      error_message = "An ssh:// gitops_repo_url needs gitops_ssh_private_key and gitops_ssh_known_hosts (and no gitops_token); an https one takes no deploy key."
    }
  }
}

# --- per region ---------------------------------------------------------------------------------------------

resource "hcloud_network" "region" {
  for_each = local.regions

  name     = "${var.name_prefix}-${each.key}-net"
  ip_range = each.value.network_cidr
  labels   = merge(local.common_labels, { "catalyst.dev/role" = "network", "catalyst.dev/region" = each.key })
}

resource "hcloud_network_subnet" "region" {
  for_each = local.regions

  network_id   = hcloud_network.region[each.key].id
  type         = "cloud"
  network_zone = each.value.network_zone
  ip_range     = each.value.subnet_cidr
}

# Hetzner firewalls filter the public interface only; node-to-node and load-balancer traffic runs over the
# private network. So the public side needs nothing but ping, SSH from the allowed networks and the
# Kubernetes API from Catalyst's egress networks (var.api_allowed_cidrs), at the region's API address.
resource "hcloud_firewall" "region" {
  for_each = local.regions

  name   = "${var.name_prefix}-${each.key}-fw"
  labels = merge(local.common_labels, { "catalyst.dev/role" = "firewall", "catalyst.dev/region" = each.key })

  rule {
    description = "ping"
    direction   = "in"
    protocol    = "icmp"
    source_ips  = ["0.0.0.0/0", "::/0"]
  }

  dynamic "rule" {
    for_each = length(var.ssh_allowed_cidrs) > 0 ? ["ssh"] : []
    content {
      description = "SSH (break-glass)"
      direction   = "in"
      protocol    = "tcp"
      port        = "22"
      source_ips  = var.ssh_allowed_cidrs
    }
  }

  dynamic "rule" {
    for_each = length(var.api_allowed_cidrs) > 0 ? ["kube-api"] : []
    content {
      description = "Kubernetes API (Catalyst)"
      direction   = "in"
      protocol    = "tcp"
      port        = "6443"
      source_ips  = var.api_allowed_cidrs
    }
  }
}

# Control planes of a region land on different physical hosts.
resource "hcloud_placement_group" "control_plane" {
  for_each = local.regions

  name   = "${var.name_prefix}-${each.key}-cp"
  type   = "spread"
  labels = merge(local.common_labels, { "catalyst.dev/role" = "placement-group", "catalyst.dev/region" = each.key })
}

# The region's Kubernetes API address as Catalyst sees it: the first control plane's public IPv4. A primary
# IP of its own, so the address (the kubeconfig's server and a TLS name of the API) is known before the
# server exists and survives a replacement of the server.
resource "hcloud_primary_ip" "api" {
  for_each = local.regions

  name          = "${var.name_prefix}-${each.key}-api"
  type          = "ipv4"
  location      = each.value.location
  assignee_type = "server"
  auto_delete   = false
  labels        = merge(local.common_labels, { "catalyst.dev/role" = "api-address", "catalyst.dev/region" = each.key })
}

resource "random_password" "k3s_token" {
  for_each = local.regions

  length  = 48
  special = false
}

resource "hcloud_load_balancer" "region" {
  for_each = local.public_regions

  name               = "${var.name_prefix}-${each.key}-lb"
  load_balancer_type = var.load_balancer_type
  location           = each.value.location
  labels             = merge(local.common_labels, { "catalyst.dev/role" = "load-balancer", "catalyst.dev/region" = each.key })

  algorithm {
    type = "round_robin"
  }
}

resource "hcloud_load_balancer_network" "region" {
  for_each = local.public_regions

  load_balancer_id = hcloud_load_balancer.region[each.key].id
  subnet_id        = hcloud_network_subnet.region[each.key].id
  ip               = each.value.lb_private_ip
}

# Targets every control plane of the region, found by label, reached over the private network.
resource "hcloud_load_balancer_target" "control_planes" {
  for_each = local.public_regions

  type             = "label_selector"
  load_balancer_id = hcloud_load_balancer.region[each.key].id
  label_selector   = "catalyst.dev/deployment-id=${var.deployment_id},catalyst.dev/role=control-plane,catalyst.dev/region=${each.key}"
  use_private_ip   = true

  depends_on = [hcloud_load_balancer_network.region]
}

resource "hcloud_load_balancer_service" "region" {
  for_each = local.lb_services

  load_balancer_id = hcloud_load_balancer.region[each.value.region].id
  protocol         = "tcp"
  listen_port      = each.value.listen
  destination_port = each.value.destination
  proxyprotocol    = false
}

# With ha_enabled: the Kubernetes API of the three control planes behind a private-only load balancer
# (10.i.1.253), the address every node and Cilium use. No public interface: the API is never on the internet.
resource "hcloud_load_balancer" "api" {
  for_each = local.api_lb_regions

  name               = "${var.name_prefix}-${each.key}-api"
  load_balancer_type = var.load_balancer_type
  location           = each.value.location
  labels             = merge(local.common_labels, { "catalyst.dev/role" = "api-load-balancer", "catalyst.dev/region" = each.key })

  algorithm {
    type = "round_robin"
  }
}

resource "hcloud_load_balancer_network" "api" {
  for_each = local.api_lb_regions

  load_balancer_id        = hcloud_load_balancer.api[each.key].id
  subnet_id               = hcloud_network_subnet.region[each.key].id
  ip                      = each.value.api_lb_private_ip
  enable_public_interface = false
}

resource "hcloud_load_balancer_target" "api" {
  for_each = local.api_lb_regions

  type             = "label_selector"
  load_balancer_id = hcloud_load_balancer.api[each.key].id
  label_selector   = "catalyst.dev/deployment-id=${var.deployment_id},catalyst.dev/role=control-plane,catalyst.dev/region=${each.key}"
  use_private_ip   = true

  depends_on = [hcloud_load_balancer_network.api]
}

resource "hcloud_load_balancer_service" "api" {
  for_each = local.api_lb_regions

  load_balancer_id = hcloud_load_balancer.api[each.key].id
  protocol         = "tcp"
  listen_port      = 6443
  destination_port = 6443
  proxyprotocol    = false
}

# --- nodes ----------------------------------------------------------------------------------------------

resource "hcloud_server" "control_plane" {
  for_each = local.control_planes

  name               = "${var.name_prefix}-${each.key}"
  server_type        = local.regions[each.value.region].control_plane_size
  image              = var.image
  location           = local.regions[each.value.region].location
  ssh_keys           = [hcloud_ssh_key.admin.id]
  firewall_ids       = [hcloud_firewall.region[each.value.region].id]
  placement_group_id = hcloud_placement_group.control_plane[each.value.region].id
  labels = merge(local.common_labels, {
    "catalyst.dev/role"   = "control-plane"
    "catalyst.dev/region" = each.value.region
  })

  public_net {
    ipv4_enabled = true
    # The first control plane carries the region's API address; the others get an address of their own.
    ipv4         = each.value.n == 1 ? hcloud_primary_ip.api[each.value.region].id : null
    ipv6_enabled = true
  }

  network {
    network_id = hcloud_network.region[each.value.region].id
    ip         = each.value.ip
    alias_ips  = []
  }

  user_data = templatefile("${path.module}/cloudinit-control-plane.tftpl", {
    node_name    = "${var.name_prefix}-${each.key}"
    first_server = each.value.n == 1
    # Read by /usr/local/sbin/catalyst-bootstrap on the node (jq), so no value is ever spliced into a command.
    bootstrap_settings = jsonencode({
      node_name        = "${var.name_prefix}-${each.key}"
      first_server     = each.value.n == 1
      node_ip          = each.value.ip
      region_key       = each.value.region
      join_url         = "https://${local.regions[each.value.region].first_cp_ip}:6443"
      api_public_host  = local.api_public_host[each.value.region]
      api_private_host = local.api_private_host[each.value.region]
      tls_sans         = distinct([var.sovereign_fqdn, local.api_public_host[each.value.region], local.api_private_host[each.value.region], each.value.ip])
      cluster_cidr     = local.regions[each.value.region].cluster_cidr
      service_cidr     = local.regions[each.value.region].service_cidr
      cluster_dns      = local.regions[each.value.region].cluster_dns
      k3s_version      = var.k3s_version
      cilium_version   = var.cilium_version
      flux_version     = var.flux_version
      helm_version     = var.helm_version
      kubeconfig_name  = "${var.sovereign_fqdn}-${each.value.region}"
      kubeconfig_url   = local.kubeconfig_put_url[each.value.region]
    })
    k3s_token         = random_password.k3s_token[each.value.region].result
    # Only the region's first control plane hands the kubeconfig back, with its region's own bearer.
    kubeconfig_bearer = each.value.n == 1 ? lookup(var.kubeconfig_bearer_tokens, each.value.region, "") : ""
    flux_bootstrap    = local.flux_bootstrap[each.value.region]
    cluster_secrets   = local.cluster_secrets[each.value.region]
    sovereign_record  = jsonencode(merge(local.sovereign_record, { region = each.value.region }))
    enable_fail2ban   = var.enable_fail2ban
    enable_upgrades   = var.enable_unattended_upgrades
    # Control planes of a region reboot for updates 20 minutes apart, from 02:30.
    reboot_time = format("%02d:%02d", floor((150 + 20 * (each.value.n - 1)) / 60), (150 + 20 * (each.value.n - 1)) % 60)
  })

  lifecycle {
    # Cloud-init runs once, at first boot. A later change of its inputs (a rotated token, a new bearer on
    # retry) must not replace a running node; neither must a new image release or SSH key.
    ignore_changes = [user_data, ssh_keys, image]
  }

  # With HA the private API load balancer must already carry the Kubernetes API: nodes reach it there.
  depends_on = [
    hcloud_network_subnet.region,
    hcloud_load_balancer_network.api,
    hcloud_load_balancer_target.api,
    hcloud_load_balancer_service.api,
  ]
}

resource "hcloud_server" "worker" {
  for_each = local.workers

  name         = "${var.name_prefix}-${each.key}"
  server_type  = local.regions[each.value.region].worker_size
  image        = var.image
  location     = local.regions[each.value.region].location
  ssh_keys     = [hcloud_ssh_key.admin.id]
  firewall_ids = [hcloud_firewall.region[each.value.region].id]
  labels = merge(local.common_labels, {
    "catalyst.dev/role"   = "worker"
    "catalyst.dev/region" = each.value.region
  })

  public_net {
    ipv4_enabled = true
    ipv6_enabled = true
  }

  network {
    network_id = hcloud_network.region[each.value.region].id
    ip         = each.value.ip
    alias_ips  = []
  }

  user_data = templatefile("${path.module}/cloudinit-worker.tftpl", {
    node_name = "${var.name_prefix}-${each.key}"
    bootstrap_settings = jsonencode({
      node_name   = "${var.name_prefix}-${each.key}"
      node_ip     = each.value.ip
      region_key  = each.value.region
      server_url  = "https://${local.api_private_host[each.value.region]}:6443"
      k3s_version = var.k3s_version
    })
    k3s_token        = random_password.k3s_token[each.value.region].result
    sovereign_record = jsonencode(merge(local.sovereign_record, { region = each.value.region }))
    enable_fail2ban  = var.enable_fail2ban
    enable_upgrades  = var.enable_unattended_upgrades
    # Workers reboot for updates 5 minutes apart, from 03:30 (after the control planes).
    reboot_time = format("%02d:%02d", floor((210 + 5 * (each.value.n - 1)) / 60), (210 + 5 * (each.value.n - 1)) % 60)
  })

  lifecycle {
    ignore_changes = [user_data, ssh_keys, image]
  }

  # Workers join a running control plane.
  depends_on = [hcloud_network_subnet.region, hcloud_server.control_plane]
}
