// The types the generated checks (generated/*.ts, written by generate.mjs)
// hold each dashboard to: Grafana's published dashboard schema
// (@grafana/schema, pinned in package.json), with three adjustments for JSON.
//
// 1. JSON spells a string enum member by its value ("absolute", "value"),
//    which TypeScript does not accept for an enum type: `Json<T>` turns every
//    string enum into the union of its values. Everything else is unchanged,
//    required keys stay required and unknown keys are still excess properties.
// 2. A panel plugin completes its `options` and `fieldConfig.defaults.custom`
//    with defaults, so a dashboard may leave any of them out: those two are
//    checked against the plugin's own schema with every key optional
//    (`Loose<T>`) but unknown keys and wrong value types are still errors.
// 3. Query targets (panels' and annotations') are the schema's base
//    `DataQuery` plus the datasource's own keys, which it does not describe
//    for Prometheus or InfluxDB: see `Target`.

import type {
  AnnotationContainer as SchemaAnnotationContainer,
  AnnotationQuery as SchemaAnnotationQuery,
  DataQuery,
  Dashboard as SchemaDashboard,
  FieldConfig as SchemaFieldConfig,
  FieldConfigSource as SchemaFieldConfigSource,
  Panel as SchemaPanel,
  RowPanel as SchemaRowPanel,
} from '@grafana/schema';
import type * as annolist from '@grafana/schema/dist/esm/raw/composable/annotationslist/panelcfg/x/AnnotationsListPanelCfg_types.gen';
import type * as barchart from '@grafana/schema/dist/esm/raw/composable/barchart/panelcfg/x/BarChartPanelCfg_types.gen';
import type * as bargauge from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
import type * as candlestick from '@grafana/schema/dist/esm/raw/composable/candlestick/panelcfg/x/CandlestickPanelCfg_types.gen';
import type * as canvas from '@grafana/schema/dist/esm/raw/composable/canvas/panelcfg/x/CanvasPanelCfg_types.gen';
import type * as dashlist from '@grafana/schema/dist/esm/raw/composable/dashboardlist/panelcfg/x/DashboardListPanelCfg_types.gen';
import type * as datagrid from '@grafana/schema/dist/esm/raw/composable/datagrid/panelcfg/x/DatagridPanelCfg_types.gen';
import type * as gauge from '@grafana/schema/dist/esm/raw/composable/gauge/panelcfg/x/GaugePanelCfg_types.gen';
import type * as geomap from '@grafana/schema/dist/esm/raw/composable/geomap/panelcfg/x/GeomapPanelCfg_types.gen';
import type * as heatmap from '@grafana/schema/dist/esm/raw/composable/heatmap/panelcfg/x/HeatmapPanelCfg_types.gen';
import type * as histogram from '@grafana/schema/dist/esm/raw/composable/histogram/panelcfg/x/HistogramPanelCfg_types.gen';
import type * as logs from '@grafana/schema/dist/esm/raw/composable/logs/panelcfg/x/LogsPanelCfg_types.gen';
import type * as news from '@grafana/schema/dist/esm/raw/composable/news/panelcfg/x/NewsPanelCfg_types.gen';
import type * as nodegraph from '@grafana/schema/dist/esm/raw/composable/nodegraph/panelcfg/x/NodeGraphPanelCfg_types.gen';
import type * as piechart from '@grafana/schema/dist/esm/raw/composable/piechart/panelcfg/x/PieChartPanelCfg_types.gen';
import type * as stat from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import type * as statetimeline from '@grafana/schema/dist/esm/raw/composable/statetimeline/panelcfg/x/StateTimelinePanelCfg_types.gen';
import type * as statushistory from '@grafana/schema/dist/esm/raw/composable/statushistory/panelcfg/x/StatusHistoryPanelCfg_types.gen';
import type * as table from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import type * as text from '@grafana/schema/dist/esm/raw/composable/text/panelcfg/x/TextPanelCfg_types.gen';
import type * as timeseries from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
import type * as trend from '@grafana/schema/dist/esm/raw/composable/trend/panelcfg/x/TrendPanelCfg_types.gen';

/** `T` as JSON can spell it: string enums become the union of their values. */
export type Json<T> = T extends string
  ? string extends T
    ? string
    : `${T}`
  : T extends number | boolean | null | undefined
    ? T
    : T extends ReadonlyArray<infer U>
      ? Array<Json<U>>
      : T extends object
        ? { [K in keyof T]: Json<T[K]> }
        : T;

/** Every key optional, at every depth (plugin options and custom field config). */
export type Loose<T> = T extends ReadonlyArray<infer U>
  ? Array<Loose<U>>
  : T extends object
    ? { [K in keyof T]?: Loose<T[K]> }
    : T;

/**
 * A panel's or an annotation's query. No datasource's query schema applies to
 * every target (the package has none for Prometheus or InfluxDB), so the
 * common `DataQuery` properties are checked (refId required; datasource,
 * hide, queryType typed) and the datasource-specific ones (expr, query,
 * fromAnnotations, ...) are let through.
 */
export type Target = Json<DataQuery> & Record<string, unknown>;

/** A panel whose plugin options and custom field config are `Options` and `Custom`. */
export type PanelOf<Options, Custom = Record<string, unknown>> = Omit<
  Json<SchemaPanel>,
  'options' | 'fieldConfig' | 'targets'
> & {
  options?: Loose<Json<Options>>;
  fieldConfig?: Omit<Json<SchemaFieldConfigSource>, 'defaults'> & {
    defaults: Omit<Json<SchemaFieldConfig>, 'custom'> & { custom?: Loose<Json<Custom>> };
  };
  targets?: Target[];
};

/**
 * Panel types whose plugin schema the package publishes, by panel `type`.
 * A panel of any other type is checked as a generic `Panel` (options free).
 */
export interface Panels {
  annolist: PanelOf<annolist.Options>;
  barchart: PanelOf<barchart.Options, barchart.FieldConfig>;
  bargauge: PanelOf<bargauge.Options>;
  candlestick: PanelOf<candlestick.Options, candlestick.FieldConfig>;
  canvas: PanelOf<canvas.Options>;
  dashlist: PanelOf<dashlist.Options>;
  datagrid: PanelOf<datagrid.Options>;
  gauge: PanelOf<gauge.Options>;
  geomap: PanelOf<geomap.Options>;
  heatmap: PanelOf<heatmap.Options, heatmap.FieldConfig>;
  histogram: PanelOf<histogram.Options, histogram.FieldConfig>;
  logs: PanelOf<logs.Options>;
  news: PanelOf<news.Options>;
  nodeGraph: PanelOf<nodegraph.Options>;
  piechart: PanelOf<piechart.Options, piechart.FieldConfig>;
  stat: PanelOf<stat.Options>;
  'state-timeline': PanelOf<statetimeline.Options, statetimeline.FieldConfig>;
  'status-history': PanelOf<statushistory.Options, statushistory.FieldConfig>;
  table: PanelOf<table.Options, table.FieldConfig>;
  text: PanelOf<text.Options>;
  timeseries: PanelOf<timeseries.Options, timeseries.FieldConfig>;
  trend: PanelOf<trend.Options, trend.FieldConfig>;
}

/** A panel of a type not in `Panels`: the schema's generic panel. */
export type GenericPanel = Omit<Json<SchemaPanel>, 'targets'> & { targets?: Target[] };

/** A row; its panels (collapsed rows hold them) are checked one by one. */
export type RowPanel = Json<SchemaRowPanel>;

/** An annotation query; its `target` is a datasource query like a panel's. */
export type Annotation = Omit<Json<SchemaAnnotationQuery>, 'target'> & { target?: Target };

/** The dashboard; its panels are checked one by one as `Panels[type]`, `GenericPanel` or `RowPanel`. */
export type Dashboard = Omit<Json<SchemaDashboard>, 'annotations'> & {
  annotations?: Omit<Json<SchemaAnnotationContainer>, 'list'> & { list?: Annotation[] };
};
