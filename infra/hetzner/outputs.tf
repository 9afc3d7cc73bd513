# Read by Catalyst with `tofu output -json` after apply.

output "control_plane_ip" {
  description = "Public IPv4 of the primary region's first control plane."
  value       = hcloud_server.control_plane["${local.primary_key}-cp1"].ipv4_address
}

output "load_balancer_ip" {
  description = "Public IPv4 of the primary region's load balancer: where console.<fqdn> and *.<fqdn> point (HTTP and HTTPS only)."
  value       = hcloud_load_balancer.region[local.primary_key].ipv4
}

output "sovereign_fqdn" {
  value = var.sovereign_fqdn
}

output "console_url" {
  value = "https://console.${var.sovereign_fqdn}"
}

output "gitops_repo_url" {
  description = "Repository and folder Flux follows: <repo>//<path>."
  value       = "${var.gitops_repo_url}//${var.gitops_path}"
}

output "regions" {
  description = "Per region key: location, whether primary or air-gapped, the Kubernetes API endpoint Catalyst uses (the kubeconfig's server; reachable only from api_allowed_cidrs), and node addresses."
  value = {
    for k, r in local.regions : k => {
      location          = r.location
      primary           = r.primary
      airgap            = r.airgap
      load_balancer_ip  = lookup(local.lb_public_ip, k, "")
      api_endpoint      = "https://${local.api_public_host[k]}:6443"
      control_plane_ips = [for name, cp in local.control_planes : hcloud_server.control_plane[name].ipv4_address if cp.region == k]
      worker_ips        = [for name, w in local.workers : hcloud_server.worker[name].ipv4_address if w.region == k]
    }
  }
}
