// The SDK publishes its modules through package.json "exports" only; this project compiles with
// `moduleResolution: node`, which ignores "exports". These declarations point TypeScript at the
// same files Node loads at run time (dist/<module>/index.js). Referenced from dashboards.ts so that
// ts-node (which `pulumi up` uses) sees them too.
declare module "@grafana/grafana-foundation-sdk/dashboard" {
  export * from "@grafana/grafana-foundation-sdk/dist/dashboard/index";
}
declare module "@grafana/grafana-foundation-sdk/common" {
  export * from "@grafana/grafana-foundation-sdk/dist/common/index";
}
declare module "@grafana/grafana-foundation-sdk/prometheus" {
  export * from "@grafana/grafana-foundation-sdk/dist/prometheus/index";
}
declare module "@grafana/grafana-foundation-sdk/timeseries" {
  export * from "@grafana/grafana-foundation-sdk/dist/timeseries/index";
}
declare module "@grafana/grafana-foundation-sdk/stat" {
  export * from "@grafana/grafana-foundation-sdk/dist/stat/index";
}
