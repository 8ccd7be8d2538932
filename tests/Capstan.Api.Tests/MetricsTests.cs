namespace Capstan.Api.Tests;

using System.Net;
using Capstan.Api.Contracts;

public sealed class MetricsTests
{
    private static readonly (string, string) Namespace = ("namespace", "default");

    [Fact(DisplayName = "Metrics: a known cluster (3 captures, 12 replicating tables) exposes the documented series with the right values")]
    public async Task KnownClusterState()
    {
        await using var env = await ApiEnv.StartAsync(captures: 3, tables: 12);
        var feed = ("changefeed", env.Changefeed);
        var metrics = await ScrapeAsync(env);

        Assert.Equal(12, metrics.Value("capstan_scheduler_table", Namespace, feed));
        Assert.Equal(12, metrics.Value("capstan_scheduler_table_replication_state", Namespace, feed, ("state", "Replicating")));
        foreach (var state in new[] { "Unknown", "Absent", "Prepare", "Commit", "Removing" })
        {
            Assert.Equal(0, metrics.Value("capstan_scheduler_table_replication_state", Namespace, feed, ("state", state)));
        }

        Assert.Equal(0, metrics.Value("capstan_scheduler_task_running", Namespace, feed));
        // The basic scheduler added every table once, in bursts; burst items also count under their own kind.
        Assert.Equal(12, metrics.Value("capstan_scheduler_task_accept_total", Namespace, feed, ("task", "addTable")));
        Assert.True(metrics.Value("capstan_scheduler_task_accept_total", Namespace, feed, ("task", "burstBalance")) >= 1);
        Assert.True(metrics.Value("capstan_scheduler_task_total", Namespace, feed, ("scheduler", "basic-scheduler"), ("task", "burstBalance")) >= 1);

        var addresses = metrics.LabelValues("capstan_scheduler_capture_table", "addr");
        Assert.Equal(["embedded://capture-1", "embedded://capture-2", "embedded://capture-3"], addresses.Order());
        Assert.Equal(12, addresses.Sum(addr => metrics.Value("capstan_scheduler_capture_table", Namespace, feed, ("addr", addr))));

        var tables = await env.GetAsync<List<TableDto>>($"/api/v2/changefeeds/{env.Changefeed}/tables");
        double slow = metrics.Value("capstan_scheduler_slow_table_id", Namespace, feed);
        Assert.InRange(slow, 1, 12);
        Assert.Equal(4, metrics.Value("capstan_scheduler_slow_table_replication_state", Namespace, feed)); // Replicating
        Assert.True(metrics.Value("capstan_scheduler_slow_table_checkpoint_ts", Namespace, feed) > 1_700_000_000_000);
        Assert.Equal(["puller-egress", "puller-ingress", "sink", "sorter-egress", "sorter-ingress"],
            metrics.LabelValues("capstan_scheduler_slow_table_stage_checkpoint_ts", "stage").Where(s => s != "barrier").Order());
        Assert.True(metrics.Has("capstan_scheduler_slow_table_stage_resolved_ts_lag", Namespace, feed, ("stage", "sink")));
        Assert.True(metrics.Has("capstan_scheduler_slow_table_puller_resolved_ts", Namespace, feed));
        Assert.True(metrics.Value("capstan_scheduler_slow_table_puller_resolved_ts_lag", Namespace, feed) >= 0);
        Assert.Contains(tables, t => t.TableId == (long)slow);

        Assert.Equal(0, metrics.Value("capstan_scheduler_dropped_messages_total", Namespace, feed, ("reason", "malformed")));
        Assert.Equal(3, metrics.Value("capstan_membership_alive_captures"));
        Assert.True(metrics.Value("capstan_membership_owner_revision", ("owner", env.Cluster.OwnerId.Value)) > 0);
        Assert.True(metrics.Value("capstan_transport_messages_total", ("result", "delivered")) > 0);
        Assert.Contains("# TYPE capstan_scheduler_task_accept_total counter", metrics.Text, StringComparison.Ordinal);
        Assert.Contains("# TYPE capstan_scheduler_table gauge", metrics.Text, StringComparison.Ordinal);
    }

    [Fact(DisplayName = "Metrics (Go bug §13 #7): removing one changefeed removes only its series; the other's stage and puller series stay")]
    public async Task ClosingOneChangefeedKeepsTheOthersSeries_GoWipesAll()
    {
        await using var env = await ApiEnv.StartAsync(captures: 2, tables: 4);
        using var created = await env.PostJsonAsync("/api/v2/changefeeds", """{"changefeed_id":"orders","table_ids":[21,22]}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        await env.Stepped.WaitUntilAsync(() => env.Cluster.Snapshot("orders").AllReplicating, "orders replicating");
        PrometheusText both = null!;
        await env.Stepped.WaitUntilAsync(() =>
        {
            both = ScrapeAsync(env).GetAwaiter().GetResult();
            return both.Has("capstan_scheduler_slow_table_stage_checkpoint_ts", ("changefeed", "orders"), ("stage", "sink"));
        }, "orders has stage series");
        Assert.Equal(2, both.Value("capstan_scheduler_table", Namespace, ("changefeed", "orders")));

        using var removed = await env.Client.DeleteAsync("/api/v2/changefeeds/orders");
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        PrometheusText after = null!;
        await env.Stepped.WaitUntilAsync(() =>
        {
            after = ScrapeAsync(env).GetAwaiter().GetResult();
            return !after.Has("capstan_scheduler_table", ("changefeed", "orders"));
        }, "orders series gone");

        var feed = ("changefeed", env.Changefeed);
        Assert.Empty(after.Values("capstan_scheduler_slow_table_stage_checkpoint_ts", ("changefeed", "orders")));
        Assert.Empty(after.Values("capstan_scheduler_slow_table_puller_resolved_ts", ("changefeed", "orders")));
        Assert.Equal(4, after.Value("capstan_scheduler_table", Namespace, feed));
        Assert.Equal(5, after.Values("capstan_scheduler_slow_table_stage_checkpoint_ts", Namespace, feed).Count);
        Assert.True(after.Has("capstan_scheduler_slow_table_stage_resolved_ts_lag", Namespace, feed, ("stage", "sink")));
        Assert.True(after.Has("capstan_scheduler_slow_table_puller_resolved_ts", Namespace, feed));
        Assert.True(after.Has("capstan_scheduler_slow_table_puller_resolved_ts_lag", Namespace, feed));
    }

    [Fact(DisplayName = "Metrics: the periodic collection feeds the lag histograms with TiCDC's buckets (0.5 s … 18 s)")]
    public async Task LagHistograms()
    {
        await using var env = await ApiEnv.StartAsync(captures: 2, tables: 3, configure: o => o.MetricsInterval = TimeSpan.FromMilliseconds(100));
        PrometheusText metrics = null!;
        await env.Stepped.WaitUntilAsync(() =>
        {
            metrics = ScrapeAsync(env).GetAwaiter().GetResult();
            return metrics.Values("capstan_scheduler_slow_table_stage_checkpoint_ts_lag_histogram_count", ("stage", "sink")).Any(v => v > 0);
        }, "histogram observations");
        var buckets = metrics.LabelValues("capstan_scheduler_slow_table_stage_checkpoint_ts_lag_histogram_bucket", "le");
        Assert.Contains("0.5", buckets);
        Assert.Contains("18", buckets);
        Assert.Contains("+Inf", buckets);
        Assert.Equal(37, buckets.Count);
        Assert.True(metrics.Has("capstan_scheduler_slow_table_stage_resolved_ts_lag_histogram_count", ("stage", "sink")));
    }

    private static async Task<PrometheusText> ScrapeAsync(ApiEnv env)
    {
        using var response = await env.Client.GetAsync("/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return new PrometheusText(await response.Content.ReadAsStringAsync());
    }
}
