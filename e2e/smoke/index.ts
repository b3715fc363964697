// The smoke program: a Namespace (Pod Security restricted, as the platform's), a ConfigMap in it,
// and a RandomPassword, through an explicit provider for the e2e cluster, never the ambient kubeconfig.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

const config = new pulumi.Config();
const provider = new k8s.Provider("e2e-local", {
  kubeconfig: config.require("kubeconfig"),
  context: config.require("context"),
});

const namespace = new k8s.core.v1.Namespace("smoke", {
  metadata: {
    name: "dm-e2e-smoke",
    labels: { "pod-security.kubernetes.io/enforce": "restricted" },
  },
}, { provider });

const password = new random.RandomPassword("smoke", { length: 24, special: false });

const configMap = new k8s.core.v1.ConfigMap("smoke", {
  metadata: { namespace: namespace.metadata.name },
  data: { greeting: "hello from the e2e engine" },
}, { provider });

export const namespaceName = namespace.metadata.name;
export const configMapName = configMap.metadata.name;
export const passwordLength = password.length;
export const passwordValue = password.result;
