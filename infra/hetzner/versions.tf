# Catalyst's Hetzner Cloud module: one Sovereign (one k3s cluster per region) on the customer's own
# Hetzner project. Catalyst copies this folder into a per-deployment work directory, writes
# `tofu.auto.tfvars.json` next to it and runs `tofu init/plan/apply` there.

terraform {
  required_version = ">= 1.6.0"

  required_providers {
    hcloud = {
      source  = "hetznercloud/hcloud"
      version = "1.68.0"
    }
    # Per-region k3s join tokens: random, kept in state, never derived from guessable inputs.
    random = {
      source  = "hashicorp/random"
      version = "3.7.2"
    }
  }
}

provider "hcloud" {
  token = var.hcloud_token
}
