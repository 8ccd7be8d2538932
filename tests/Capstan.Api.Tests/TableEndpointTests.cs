namespace Capstan.Api.Tests;

using System.Net;
using System.Net.Http.Json;
using Capstan.Api.Contracts;

public sealed class TableEndpointTests
{
    [Fact(DisplayName = "Tables: one Replicating set per table with span, primary, checkpoint and resolved ts; paging")]
    public async Task ListTables()
    {
        await using var env = await ApiEnv.StartAsync();
        var tables = await env.GetAsync<List<TableDto>>($"/api/v2/changefeeds/{env.Changefeed}/tables");
        Assert.Equal(Enumerable.Range(1, 12).Select(i => (long)i), tables.Select(t => t.TableId));
        Assert.All(tables, t =>
        {
            Assert.Equal("Replicating", t.State);
            Assert.StartsWith("capture-", t.Primary);
            Assert.Equal("", t.Secondary);
            Assert.True(t.CheckpointTs > 0 && t.ResolvedTs >= t.CheckpointTs, $"{t}");
            Assert.Equal(t.TableId, t.Span.TableId);
            Assert.NotEqual("", t.Span.StartKey);
            Assert.True(t.WholeTable);
            Assert.Null(t.Task);
        });
        var page = await env.GetAsync<List<TableDto>>($"/api/v2/changefeeds/{env.Changefeed}/tables?offset=10&limit=5");
        Assert.Equal([11L, 12L], page.Select(t => t.TableId));
    }

    [Fact(DisplayName = "Tables: each span shows its load (write rate) once the coordinator has collected stats")]
    public async Task ListTables_ShowsLoad()
    {
        await using var env = await ApiEnv.StartAsync();
        List<TableDto> tables = [];
        await env.Stepped.WaitUntilAsync(() =>
        {
            tables = env.GetAsync<List<TableDto>>($"/api/v2/changefeeds/{env.Changefeed}/tables").GetAwaiter().GetResult();
            return tables.All(t => t.WriteKeysPerSecond is not null);
        }, "stats collected for every table");
        Assert.All(tables, t => Assert.True(t.WriteKeysPerSecond > 0, $"{t}"));
    }

    [Fact(DisplayName = "Move: 202 accepted, progress readable (Prepare → Commit → Replicating on the target), explain names the move-table scheduler")]
    public async Task MoveTableAndFollowIt()
    {
        await using var env = await ApiEnv.StartAsync();
        var before = await env.TableAsync(7);
        string target = await env.OtherCaptureAsync(7);
        using var response = await env.PostJsonAsync($"/api/v2/changefeeds/{env.Changefeed}/tables/move_table", $$"""{"capture_id": "{{target}}", "table_id": 7}""");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var accepted = (await response.Content.ReadFromJsonAsync<CommandResultDto>(CapstanJson.Options))!;
        Assert.True(accepted.Accepted);
        Assert.Contains($"from '{before.Primary}' to '{target}'", accepted.Message);
        Assert.EndsWith($"/tables/7", response.Headers.Location!.ToString());

        var seen = new HashSet<string>();
        TableDto now = before;
        await env.Stepped.WaitUntilAsync(() =>
        {
            now = env.TableAsync(7).GetAwaiter().GetResult();
            seen.Add(now.State);
            return now.State == "Replicating" && now.Primary == target;
        }, "table 7 replicating on the target");
        Assert.Null(now.Task);

        var explain = await env.GetAsync<ExplainDto>($"/api/v2/changefeeds/{env.Changefeed}/tables/7/explain");
        Assert.Equal(target, explain.Current!.Primary);
        Assert.Equal("move-table-scheduler", explain.PlacedBy!.Scheduler);
        Assert.Equal("moveTable", explain.PlacedBy.Kind);
        Assert.Contains("an operator moved it there", explain.Summary);
        Assert.Contains(explain.History, h => h.Scheduler == "basic-scheduler" && h.Kind == "addTable");
    }

    [Fact(DisplayName = "Move refused by the scheduler: 400 with the reason (already there; table not in the changefeed)")]
    public async Task MoveRefused()
    {
        await using var env = await ApiEnv.StartAsync();
        var table = await env.TableAsync(3);
        await ProblemAssert.IsProblemAsync(
            await env.PostJsonAsync($"/api/v2/changefeeds/{env.Changefeed}/tables/move_table", $$"""{"capture_id":"{{table.Primary}}","table_id":3}"""),
            HttpStatusCode.BadRequest, "already replicated by");
        await ProblemAssert.IsProblemAsync(
            await env.PostJsonAsync($"/api/v2/changefeeds/{env.Changefeed}/tables/move_table", """{"capture_id":"capture-1","table_id":999}"""),
            HttpStatusCode.BadRequest, "not replicated by this changefeed");
        await ProblemAssert.IsProblemAsync(
            await env.PostJsonAsync($"/api/v2/changefeeds/{env.Changefeed}/tables/move_table", """{"capture_id":"capture-9","table_id":3}"""),
            HttpStatusCode.BadRequest, "capture not exists");
    }

    [Fact(DisplayName = "Rebalance plan: a new capture makes the plan move tables to it; rebalance then evens counts out")]
    public async Task PlanThenRebalance()
    {
        await using var env = await ApiEnv.StartAsync();
        var balanced = await env.GetAsync<RebalancePlanDto>($"/api/v2/changefeeds/{env.Changefeed}/rebalance_plan");
        Assert.Empty(balanced.Moves);
        Assert.Equal(12, balanced.TablesPerCapture.Values.Sum());

        await env.Cluster.AddCaptureAsync("capture-4");
        RebalancePlanDto plan = balanced;
        await env.Stepped.WaitUntilAsync(() =>
        {
            plan = env.GetAsync<RebalancePlanDto>($"/api/v2/changefeeds/{env.Changefeed}/rebalance_plan").GetAwaiter().GetResult();
            return plan.TablesPerCapture.ContainsKey("capture-4") && plan.Moves.Count > 0;
        }, "a plan that moves tables to capture-4");
        Assert.All(plan.Moves, m => Assert.Equal("capture-4", m.To));
        Assert.Equal(0, plan.TablesPerCapture["capture-4"]);
        var planAgain = await env.GetAsync<RebalancePlanDto>($"/api/v2/changefeeds/{env.Changefeed}/rebalance_plan");
        Assert.Equal(0, planAgain.TablesPerCapture["capture-4"]); // planning changed nothing

        using var response = await env.Client.PostAsync($"/api/v2/changefeeds/{env.Changefeed}/tables/rebalance_table", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await env.Stepped.WaitUntilAsync(() =>
        {
            var snapshot = env.Stepped.Snapshot();
            return snapshot.AllReplicating && snapshot.Captures.Single(c => c.Id.Value == "capture-4").Primaries == 3;
        }, "capture-4 holds its share (3 of 12)");
    }

    [Fact(DisplayName = "Changefeeds: create (201), list, query with checkpoint/lag, add and drop tables, remove")]
    public async Task ChangefeedLifecycle()
    {
        await using var env = await ApiEnv.StartAsync();
        using var created = await env.PostJsonAsync("/api/v2/changefeeds", """{"changefeed_id":"orders","table_ids":[101,102,103]}""");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var dto = (await created.Content.ReadFromJsonAsync<ChangefeedDto>(CapstanJson.Options))!;
        Assert.Equal("orders", dto.Id);
        Assert.Equal(new long[] { 101, 102, 103 }, dto.TableIds!);

        await env.Stepped.WaitUntilAsync(() => env.Cluster.Snapshot("orders").AllReplicating, "orders replicating");
        var list = await env.GetAsync<List<ChangefeedDto>>("/api/v2/changefeeds");
        Assert.Equal(["changefeed-1", "orders"], list.Select(c => c.Id));
        Assert.All(list, c => Assert.Equal("normal", c.State));
        Assert.All(list, c => Assert.Null(c.TableIds));
        await env.Stepped.WaitUntilAsync(() => env.GetAsync<ChangefeedDto>("/api/v2/changefeeds/orders").GetAwaiter().GetResult().CheckpointTs > dto.CheckpointTs, "orders checkpoint advances");
        var query = await env.GetAsync<ChangefeedDto>("/api/v2/changefeeds/orders");
        Assert.True(query.ResolvedTs >= query.CheckpointTs);
        Assert.InRange(query.LagMs, 0, 60_000);

        using var added = await env.PostJsonAsync("/api/v2/changefeeds/orders/tables/add", """{"table_ids":[104]}""");
        Assert.Equal(HttpStatusCode.Accepted, added.StatusCode);
        await env.Stepped.WaitUntilAsync(() => env.Server.Client.GetAsync("/api/v2/changefeeds/orders/tables/104").GetAwaiter().GetResult().StatusCode == HttpStatusCode.OK
            && env.TableStateAsync("orders", 104) == "Replicating", "table 104 replicating");

        using var dropped = await env.PostJsonAsync("/api/v2/changefeeds/orders/tables/drop", """{"table_ids":[101]}""");
        Assert.Equal(HttpStatusCode.Accepted, dropped.StatusCode);
        await env.Stepped.WaitUntilAsync(() => env.Server.Client.GetAsync("/api/v2/changefeeds/orders/tables/101").GetAwaiter().GetResult().StatusCode == HttpStatusCode.NotFound,
            "table 101 removed");
        Assert.Equal(new long[] { 102, 103, 104 }, (await env.GetAsync<ChangefeedDto>("/api/v2/changefeeds/orders")).TableIds!);

        using var removed = await env.Client.DeleteAsync("/api/v2/changefeeds/orders");
        Assert.Equal(HttpStatusCode.OK, removed.StatusCode);
        await ProblemAssert.IsProblemAsync(await env.Client.GetAsync("/api/v2/changefeeds/orders"), HttpStatusCode.BadRequest, "does not exist");
        Assert.Equal(["changefeed-1"], (await env.GetAsync<List<ChangefeedDto>>("/api/v2/changefeeds")).Select(c => c.Id));
    }

    [Fact(DisplayName = "Create: an existing id is 409; add of a present table and drop of an absent one are 400")]
    public async Task ChangefeedConflicts()
    {
        await using var env = await ApiEnv.StartAsync(captures: 2, tables: 2);
        await ProblemAssert.IsProblemAsync(await env.PostJsonAsync("/api/v2/changefeeds", $$"""{"changefeed_id":"{{env.Changefeed}}","table_ids":[1]}"""),
            HttpStatusCode.Conflict, "already exists");
        await ProblemAssert.IsProblemAsync(await env.PostJsonAsync($"/api/v2/changefeeds/{env.Changefeed}/tables/add", """{"table_ids":[2]}"""),
            HttpStatusCode.BadRequest, "already replicated");
        await ProblemAssert.IsProblemAsync(await env.PostJsonAsync($"/api/v2/changefeeds/{env.Changefeed}/tables/drop", """{"table_ids":[77]}"""),
            HttpStatusCode.BadRequest, "is not replicated");
    }
}

internal static class ApiEnvExtensions
{
    public static string TableStateAsync(this ApiEnv env, string changefeed, long table) =>
        env.GetAsync<TableDto>($"/api/v2/changefeeds/{changefeed}/tables/{table}").GetAwaiter().GetResult().State;
}
