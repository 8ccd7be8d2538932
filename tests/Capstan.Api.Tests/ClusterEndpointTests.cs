namespace Capstan.Api.Tests;

using System.Net;
using Capstan.Api.Contracts;

public sealed class ClusterEndpointTests
{
    [Fact(DisplayName = "Health, status and owner: answered by any capture, owner named")]
    public async Task HealthStatusOwner()
    {
        await using var env = await ApiEnv.StartAsync();
        var health = await env.GetAsync<HealthDto>("/api/v2/health");
        var status = await env.GetAsync<HealthDto>("/api/v2/status");
        var owner = await env.GetAsync<OwnerDto>("/api/v2/owner");
        Assert.Equal("ok", health.Status);
        Assert.True(health.IsOwner);
        Assert.Equal(3, health.AliveCaptures);
        Assert.Equal(1, health.Changefeeds);
        Assert.Equal(health, status);
        Assert.Equal(env.Cluster.OwnerId.Value, owner.Id);
        Assert.Equal(health.OwnerId, owner.Id);
        Assert.True(owner.Revision > 0);
        Assert.StartsWith("embedded://", owner.Address);
    }

    [Fact(DisplayName = "Captures: every alive capture, the owner marked, table counts add up to the changefeed's tables")]
    public async Task ListCaptures()
    {
        await using var env = await ApiEnv.StartAsync();
        var captures = await env.GetAsync<List<CaptureDto>>("/api/v2/captures");
        Assert.Equal(["capture-1", "capture-2", "capture-3"], captures.Select(c => c.Id));
        Assert.Single(captures, c => c.IsOwner);
        Assert.Equal(env.Cluster.OwnerId.Value, captures.Single(c => c.IsOwner).Id);
        Assert.All(captures, c => Assert.Equal("alive", c.Liveness));
        Assert.All(captures, c => Assert.Equal("initialized", c.State));
        Assert.Equal(12, captures.Sum(c => c.TableCount));
        var snapshot = env.Stepped.Snapshot();
        foreach (var capture in captures)
        {
            Assert.Equal(snapshot.Captures.Single(v => v.Id.Value == capture.Id).Primaries, capture.TableCount);
        }
    }

    [Fact(DisplayName = "Drain: 202 with the remaining count, re-issued until 0; the capture ends with no table")]
    public async Task DrainUntilEmpty()
    {
        await using var env = await ApiEnv.StartAsync();
        string victim = env.Cluster.Captures.First(c => c.Id != env.Cluster.OwnerId).Id.Value;
        var counts = new List<int>();
        for (int attempt = 0; attempt < 2_000; attempt++)
        {
            using var response = await env.Client.PostAsync($"/api/v2/captures/{victim}/drain", null);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
            var drain = (await System.Net.Http.Json.HttpContentJsonExtensions.ReadFromJsonAsync<DrainResponseDto>(response.Content, CapstanJson.Options))!;
            counts.Add(drain.CurrentTableCount);
            if (drain.CurrentTableCount == 0)
            {
                Assert.Equal("done", drain.Status);
                break;
            }

            Assert.Equal("draining", drain.Status);
            await Task.Delay(10);
        }

        Assert.Equal(0, counts[^1]);
        Assert.True(counts[0] > 0, "the victim held tables before the drain");
        var captures = await env.GetAsync<List<CaptureDto>>("/api/v2/captures");
        Assert.Equal(0, captures.Single(c => c.Id == victim).TableCount);
        Assert.Equal(12, captures.Sum(c => c.TableCount));
    }

    [Fact(DisplayName = "Drain errors: the owner, an unknown capture and a malformed id are 400 with TiCDC's messages")]
    public async Task DrainErrors()
    {
        await using var env = await ApiEnv.StartAsync();
        string owner = env.Cluster.OwnerId.Value;
        await ProblemAssert.IsProblemAsync(await env.Client.PostAsync($"/api/v2/captures/{owner}/drain", null), HttpStatusCode.BadRequest, "cannot drain the owner");
        await ProblemAssert.IsProblemAsync(await env.Client.PostAsync("/api/v2/captures/capture-9/drain", null), HttpStatusCode.BadRequest, "capture not exists");
        await ProblemAssert.IsProblemAsync(await env.Client.PostAsync("/api/v2/captures/bad_id/drain", null), HttpStatusCode.BadRequest, "capture_id");
    }

    [Fact(DisplayName = "Drain with one capture alive: 400 'only one capture alive'")]
    public async Task DrainOnlyOneCapture()
    {
        await using var env = await ApiEnv.StartAsync(captures: 1, tables: 3);
        string only = env.Cluster.OwnerId.Value;
        await ProblemAssert.IsProblemAsync(await env.Client.PostAsync($"/api/v2/captures/{only}/drain", null), HttpStatusCode.BadRequest, "only one capture alive");
    }

    [Fact(DisplayName = "Resign owner: 202, another capture becomes the owner and scheduling goes on")]
    public async Task ResignOwner()
    {
        await using var env = await ApiEnv.StartAsync();
        var before = await env.GetAsync<OwnerDto>("/api/v2/owner");
        using var response = await env.Client.PostAsync("/api/v2/owner/resign", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        await env.Stepped.WaitUntilAsync(() => !env.Cluster.OwnerId.IsNone && env.Cluster.OwnerId.Value != before.Id, "a new owner");
        var after = await env.GetAsync<OwnerDto>("/api/v2/owner");
        Assert.NotEqual(before.Id, after.Id);
        Assert.True(after.Revision > before.Revision);
        await env.Stepped.WaitUntilAsync(() => env.Stepped.Snapshot().AllReplicating, "all replicating under the new owner");
        var captures = await env.GetAsync<List<CaptureDto>>("/api/v2/captures");
        Assert.Equal(after.Id, captures.Single(c => c.IsOwner).Id);
    }

    [Fact(DisplayName = "Events: the timeline shows owner, changefeed and a move with its phases")]
    public async Task EventsTimeline()
    {
        await using var env = await ApiEnv.StartAsync();
        string target = await env.OtherCaptureAsync(5);
        using var move = await env.PostJsonAsync($"/api/v2/changefeeds/{env.Changefeed}/tables/move_table", $$"""{"capture_id":"{{target}}","table_id":5}""");
        Assert.Equal(HttpStatusCode.Accepted, move.StatusCode);
        EventsDto events = new([], 0);
        await env.Stepped.WaitUntilAsync(() =>
        {
            events = env.GetAsync<EventsDto>("/api/v2/events").GetAwaiter().GetResult();
            return events.Events.Any(e => e.Kind == "phase" && e.TableId == 5 && e.Message.Contains("done", StringComparison.Ordinal));
        }, "move of table 5 done in the timeline");
        Assert.Contains(events.Events, e => e.Kind == "owner");
        Assert.Contains(events.Events, e => e.Kind == "task" && e.TableId == 5 && e.Message.Contains("move-table-scheduler", StringComparison.Ordinal));
        Assert.Contains(events.Events, e => e.Kind == "phase" && e.TableId == 5 && e.Message.Contains("moveTable", StringComparison.Ordinal));
        Assert.Contains(events.Events, e => e.Kind == "phase" && e.TableId == 5 && e.Message.Contains($"Replicating on {target}", StringComparison.Ordinal));
        var later = await env.GetAsync<EventsDto>($"/api/v2/events?since={events.Last}");
        Assert.All(later.Events, e => Assert.True(e.Sequence > events.Last));
    }

    [Fact(DisplayName = "OpenAPI document at /openapi/v1.json lists every endpoint")]
    public async Task OpenApiDocument()
    {
        await using var env = await ApiEnv.StartAsync(captures: 1, tables: 1);
        string json = await env.Client.GetStringAsync("/openapi/v1.json");
        foreach (var path in new[]
                 {
                     "/api/v2/health", "/api/v2/status", "/api/v2/owner", "/api/v2/captures", "/api/v2/captures/{capture_id}/drain",
                     "/api/v2/owner/resign", "/api/v2/events", "/api/v2/changefeeds", "/api/v2/changefeeds/{changefeed_id}",
                     "/api/v2/changefeeds/{changefeed_id}/tables/add", "/api/v2/changefeeds/{changefeed_id}/tables/drop",
                     "/api/v2/changefeeds/{changefeed_id}/tables", "/api/v2/changefeeds/{changefeed_id}/tables/{table_id}",
                     "/api/v2/changefeeds/{changefeed_id}/tables/{table_id}/explain", "/api/v2/changefeeds/{changefeed_id}/tables/move_table",
                     "/api/v2/changefeeds/{changefeed_id}/tables/rebalance_table", "/api/v2/changefeeds/{changefeed_id}/rebalance_plan",
                 })
        {
            Assert.Contains($"\"{path}\"", json, StringComparison.Ordinal);
        }

        Assert.Contains("capture_id", json, StringComparison.Ordinal);
        Assert.Contains("current_table_count", json, StringComparison.Ordinal);
    }
}
