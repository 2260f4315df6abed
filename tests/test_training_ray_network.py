"""A RayCluster with in-tree autoscaling in a team namespace (default-deny) may reach the
Kubernetes API; nothing else opens (issue 13, rule "network")."""

from gpu_platform.plan.readiness.k8s import Peer, allowed
from gpu_platform.training.ray_network import autoscaler_api_policy

POLICY = autoscaler_api_policy("train", "ml")


def test_the_policy_opens_https_egress_for_the_head_only():
    assert POLICY["metadata"]["name"] == "train-autoscaler-api"
    assert POLICY["spec"] == {
        "podSelector": {"matchLabels": {"ray.io/cluster": "train", "ray.io/node-type": "head"}},
        "policyTypes": ["Egress"],
        "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}], "ports": [{"protocol": "TCP", "port": 443}]}],
    }
    deny = {"metadata": {"namespace": "ml"}, "spec": {"podSelector": {}, "policyTypes": ["Egress"]}}
    head = {"ray.io/cluster": "train", "ray.io/node-type": "head"}
    worker = {"ray.io/cluster": "train", "ray.io/node-type": "worker"}
    api = Peer(external=True)
    assert allowed([deny, POLICY], "Egress", "ml", head, api, 443)
    assert not allowed([deny, POLICY], "Egress", "ml", head, api, 80)
    assert not allowed([deny, POLICY], "Egress", "ml", worker, api, 443)


def test_only_autoscaling_clusters_in_team_namespaces_get_it(plan_env):
    def policies(env):
        return sorted(r.inputs["metadata"]["name"] for r in
                      plan_env(env).find("kubernetes:networking.k8s.io/v1:NetworkPolicy")
                      if r.inputs["metadata"]["name"].endswith("-autoscaler-api"))

    assert policies("dev") == ["dev-autoscaler-api"]
    assert policies("staging") == ["train-autoscaler-api"]
    # prod's and onprem's clusters are admitted at a fixed size (enableInTreeAutoscaling: false)
    assert policies("prod") == [] and policies("onprem") == []
