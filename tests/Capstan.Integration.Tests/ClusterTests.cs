namespace Capstan.Integration.Tests;

using System.Net.Http.Json;
using Capstan.Api.Contracts;
using Capstan.Integration.Tests.Support;
using Xunit.Abstractions;

/// <summary>
/// Three <c>capstan server</c> processes and a real etcd on loopback, 2 s sessions: placement,
/// owner and capture crashes, restarts, graceful stops and a deposed owner. Every test watches
/// the persisted checkpoint the whole time: it must never go down.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ClusterTests(EtcdServer etcd, ITestOutputHelper output) : IClassFixture<EtcdServer>
{
    private const int Tables = 1000;
    private static readonly string[] Three = ["c1", "c2", "c3"];
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Fact(DisplayName = "3 captures + etcd: a changefeed of 1,000 tables becomes all Replicating and balanced; every capture agrees on the owner")]
    public async Task ThreeCaptures_ThousandTables_ReplicatingAndBalanced()
    {
        await using var cluster = new CapstanCluster(etcd, output);
        await using var monitor = await StartBalancedAsync(cluster);

        var statuses = await cluster.StatusesAsync();
        var owner = (await cluster.OwnerStatusAsync())!;
        var coordinator = owner.Coordinators.Single();
        Assert.Equal(3, statuses.Count);
        foreach (var status in statuses)
        {
            Assert.Equal(Three, status.Members.Select(member => member.Id));
            Assert.Equal(owner.CaptureId, status.Owner?.CaptureId);
            Assert.Equal(owner.OwnerRevision, status.Owner?.Revision);
            var agent = status.Agents.Single();
            Assert.Equal(owner.OwnerRevision, agent.KnownOwnerRevision);
            Assert.Equal(coordinator.Primaries[status.CaptureId], agent.ByState["Replicating"]);
        }

        Assert.Equal(Tables, statuses.Sum(status => status.Agents.Single().Spans));
        await OperatorApiThroughNonOwnerAsync(cluster, owner.CaptureId);
        var checkpoint = monitor.Highest;
        await monitor.WaitAboveAsync(checkpoint, monitor.Now, Patience, "the persisted checkpoint advances");
        Assert.Empty(monitor.Regressions);
    }

    [Fact(DisplayName = "kill -9 of the owner → a new owner is elected, rebuilds every set from heartbeats (survivors keep their tables), the checkpoint continues, never lower")]
    public async Task OwnerKilled_NewOwnerRebuildsFromHeartbeats_CheckpointContinues()
    {
        await using var cluster = new CapstanCluster(etcd, output);
        await using var monitor = await StartBalancedAsync(cluster);
        var before = (await cluster.OwnerStatusAsync())!;
        var survivors = Three.Where(id => id != before.CaptureId).ToArray();
        var held = new Dictionary<string, int>();
        foreach (var id in survivors)
        {
            held[id] = (await cluster[id].StatusAsync())!.Agents.Single().ByState["Replicating"];
        }

        var killedAt = monitor.Now;
        cluster[before.CaptureId].Kill();
        Assert.True(await cluster[before.CaptureId].WaitForExitAsync(Patience));

        // Read after the process is gone: the last checkpoint the dead owner wrote.
        var baseline = (await cluster.ChangefeedAsync())!.CheckpointTs;
        cluster.Log($"killed the owner {before.CaptureId} (revision {before.OwnerRevision}); its last checkpoint {baseline}");

        await cluster.WaitUntilAsync(async () => await cluster.OwnerStatusAsync() is { } owner && owner.CaptureId != before.CaptureId
            && owner.Coordinators.Single().Initialized, Patience, "a new owner is elected and initialised");
        var advancedAt = await monitor.WaitAboveAsync(baseline, killedAt, Patience, "the checkpoint advances past the dead owner's last one");
        var failover = advancedAt - killedAt;
        cluster.Log($"OWNER FAIL-OVER: kill -9 → checkpoint advancing again in {failover.TotalMilliseconds:0} ms (session TTL 2 s)");
        await cluster.WaitUntilBalancedAsync(Tables, survivors, Patience);

        var after = (await cluster.OwnerStatusAsync())!;
        Assert.True(after.OwnerRevision > before.OwnerRevision, "the new owner's revision is higher");
        Assert.Equal(Tables, after.Coordinators.Single().Sets);
        foreach (var id in survivors)
        {
            var agent = (await cluster[id].StatusAsync())!.Agents.Single();
            Assert.True(agent.ByState["Replicating"] >= held[id], $"{id} kept its {held[id]} tables (rebuilt, not re-added): now {agent.ByState["Replicating"]}");
            Assert.Equal(after.OwnerRevision, agent.KnownOwnerRevision);
        }

        Assert.Empty(monitor.Regressions);
    }

    [Fact(DisplayName = "kill -9 of a non-owner → its tables replicate elsewhere after its lease expires; restarted, it gets its share back")]
    public async Task NonOwnerKilled_TablesMoveAfterLease_RestartGetsShareBack()
    {
        await using var cluster = new CapstanCluster(etcd, output);
        await using var monitor = await StartBalancedAsync(cluster);
        var owner = (await cluster.OwnerStatusAsync())!;
        var victim = Three.First(id => id != owner.CaptureId);
        var survivors = Three.Where(id => id != victim).ToArray();
        var epochBefore = (await cluster[victim].StatusAsync())!.Epoch;

        var killedAt = monitor.Now;
        cluster[victim].Kill();
        cluster.Log($"killed {victim} (not the owner)");
        var recovery = await cluster.WaitUntilAsync(async () => CapstanCluster.AllReplicatingOn(await cluster.OwnerStatusAsync(), Tables, survivors),
            Patience, $"every table of {victim} replicates on {string.Join(", ", survivors)}");
        cluster.Log($"CAPTURE-LOSS RECOVERY: kill -9 → all {Tables} tables Replicating on the survivors in {recovery.TotalMilliseconds:0} ms (session TTL 2 s)");
        Assert.Equal(owner.OwnerRevision, (await cluster.OwnerStatusAsync())!.OwnerRevision);

        await cluster.StartAsync(victim);
        await cluster.WaitUntilBalancedAsync(Tables, Three, Patience);
        var restarted = (await cluster[victim].StatusAsync())!;
        Assert.NotEqual(epochBefore, restarted.Epoch);
        Assert.True(restarted.Agents.Single().ByState["Replicating"] >= Tables / 3 - 2, $"{victim} got its share back");
        _ = killedAt;
        Assert.Empty(monitor.Regressions);
    }

    [Fact(DisplayName = "Graceful stop (SIGTERM) of a non-owner, then of the owner: each is drained before it leaves (no table ever without a replicating primary)")]
    public async Task GracefulStop_NonOwnerThenOwner_DrainedBeforeLeaving()
    {
        await using var cluster = new CapstanCluster(etcd, output);
        await using var monitor = await StartBalancedAsync(cluster);
        var owner = (await cluster.OwnerStatusAsync())!.CaptureId;
        var first = Three.First(id => id != owner);
        var last = Three.First(id => id != owner && id != first);

        await StopGracefullyAsync(cluster, first, [owner, last]);
        await cluster.WaitUntilBalancedAsync(Tables, [owner, last], Patience);

        await StopGracefullyAsync(cluster, owner, [last]);
        var final = (await cluster.OwnerStatusAsync())!;
        Assert.Equal(last, final.CaptureId);
        Assert.True(CapstanCluster.AllReplicatingOn(final, Tables, [last]));
        Assert.Empty(monitor.Regressions);
    }

    [Fact(DisplayName = "A deposed owner (SIGSTOP past its lease, then SIGCONT) fences itself; its checkpoint and commands (old owner revision) are refused")]
    public async Task DeposedOwner_PausedPastLease_CannotWriteOrCommand()
    {
        await using var cluster = new CapstanCluster(etcd, output);
        await using var monitor = await StartBalancedAsync(cluster);
        var old = (await cluster.OwnerStatusAsync())!;
        var oldRevision = old.OwnerRevision!.Value;
        var others = Three.Where(id => id != old.CaptureId).ToArray();

        cluster[old.CaptureId].Pause();
        cluster.Log($"paused the owner {old.CaptureId} (revision {oldRevision})");
        await cluster.WaitUntilAsync(async () => await cluster.OwnerStatusAsync() is { } owner && owner.CaptureId != old.CaptureId
            && CapstanCluster.AllReplicatingOn(owner, Tables, others), Patience, "a new owner runs every table on the two others");
        var successor = (await cluster.OwnerStatusAsync())!;
        var baseline = monitor.Highest;

        cluster[old.CaptureId].Resume();
        cluster.Log($"resumed {old.CaptureId}; the owner is now {successor.CaptureId} (revision {successor.OwnerRevision})");
        await cluster.WaitUntilAsync(async () => await cluster[old.CaptureId].StatusAsync() is { Incarnation: >= 2, Phase: "Running" },
            Patience, $"{old.CaptureId} fences itself and joins again as a new incarnation");
        var resumed = (await cluster[old.CaptureId].StatusAsync())!;
        cluster.Log($"{old.CaptureId} after resuming: fencings {resumed.Fencings}, checkpoint writes accepted {resumed.StatusWrites.Accepted} " +
            $"refused {resumed.StatusWrites.Refused} failed {resumed.StatusWrites.Failed}; " +
            $"stale-owner messages dropped by the others: {string.Join(", ", await StaleDropsAsync(cluster, others))}");
        Assert.Null(resumed.OwnerRevision);
        Assert.True(resumed.Fencings >= 1, "the resumed owner fenced itself");
        Assert.Equal(successor.CaptureId, resumed.Owner?.CaptureId);
        await monitor.WaitAboveAsync(baseline, monitor.Now, Patience, "the new owner's checkpoint keeps advancing");

        // The deposed owner's commands: remove every table from a capture, stamped with its old revision.
        var target = others.First(id => id != successor.CaptureId);
        var before = (await cluster[target].StatusAsync())!;
        var changefeed = (await cluster.ChangefeedAsync())!;
        using (var injector = new FrameInjector(cluster[target].GrpcPort))
        {
            var frame = FrameInjector.RemoveTables(old.CaptureId, target, oldRevision, before.Epoch!, changefeed.Epoch, Enumerable.Range(1, Tables).Select(t => (long)t));
            var acks = await injector.SendAsync(frame);
            Assert.Equal(Tables, acks.Single().Accepted);
        }

        await cluster.WaitUntilAsync(async () => (await cluster[target].StatusAsync())!.Agents.Single().Counters.StaleOwnerMessagesDropped
            >= before.Agents.Single().Counters.StaleOwnerMessagesDropped + Tables, Patience, $"{target} drops the {Tables} stale remove requests");
        var after = (await cluster[target].StatusAsync())!;
        Assert.Equal(before.Agents.Single().Counters.UntrackedRemoveRequestsIgnored, after.Agents.Single().Counters.UntrackedRemoveRequestsIgnored);
        Assert.True(after.Agents.Single().ByState["Replicating"] > 0, $"{target} still replicates its tables");
        Assert.Equal(successor.OwnerRevision, after.Agents.Single().KnownOwnerRevision);

        await cluster.WaitUntilBalancedAsync(Tables, Three, Patience);
        Assert.Empty(monitor.Regressions);
    }

    /// <summary>
    /// The operator API hosted by <c>capstan server</c>, used through a capture that is not the owner:
    /// reads, a move forwarded to the owner (via the API address captures register in etcd), and
    /// <c>capstan cli</c>.
    /// </summary>
    private static async Task OperatorApiThroughNonOwnerAsync(CapstanCluster cluster, string owner)
    {
        var other = cluster[Three.First(id => id != owner)];
        var captures = await other.Http.GetFromJsonAsync<List<CaptureDto>>("api/v2/captures", CapstanJson.Options);
        Assert.Equal(Three, captures!.Select(c => c.Id).Order());
        Assert.Equal([owner], captures!.Where(c => c.IsOwner).Select(c => c.Id));

        var table = await other.Http.GetFromJsonAsync<TableDto>($"api/v2/changefeeds/{CapstanCluster.Changefeed}/tables/7", CapstanJson.Options);
        var target = Three.First(id => id != table!.Primary);
        using var move = await other.Http.PostAsJsonAsync($"api/v2/changefeeds/{CapstanCluster.Changefeed}/tables/move_table",
            new MoveTableRequest(target, 7), CapstanJson.Options);
        Assert.True(move.IsSuccessStatusCode, $"move through the non-owner {other.CaptureId}: {(int)move.StatusCode} {await move.Content.ReadAsStringAsync()}");
        await cluster.WaitUntilAsync(async () =>
            await other.Http.GetFromJsonAsync<TableDto>($"api/v2/changefeeds/{CapstanCluster.Changefeed}/tables/7", CapstanJson.Options)
                is { State: "Replicating" } moved && moved.Primary == target,
            TimeSpan.FromSeconds(60), $"table 7 replicates on {target} (moved from {table!.Primary} through {other.CaptureId})");

        var listed = await Cli.RunAsync("cli", "--server", other.HttpUrl.ToString(), "capture", "list");
        Assert.True(listed.ExitCode == 0, listed.Output);
        Assert.All(Three, id => Assert.Contains(id, listed.Output, StringComparison.Ordinal));
    }

    /// <summary>Starts c1..c3, creates the 1,000-table changefeed, waits until balanced; starts the checkpoint monitor.</summary>
    private static async Task<CheckpointMonitor> StartBalancedAsync(CapstanCluster cluster)
    {
        await cluster.StartAllAsync(Three);
        await cluster.CreateChangefeedAsync($"1-{Tables}");
        await cluster.WaitUntilBalancedAsync(Tables, Three, Patience);
        var monitor = new CheckpointMonitor(cluster);
        await cluster.WaitUntilAsync(() => Task.FromResult(monitor.Highest > 0), Patience, "the checkpoint monitor reads a checkpoint");
        return monitor;
    }

    /// <summary>SIGTERM; while it drains, no set ever lacks a replicating primary; it exits 0 after logging a full drain.</summary>
    private static async Task StopGracefullyAsync(CapstanCluster cluster, string capture, string[] remaining)
    {
        var process = cluster[capture];
        process.Terminate();
        cluster.Log($"sent SIGTERM to {capture}");
        bool sawStopping = false;
        int maxAbsent = 0;
        var drained = await cluster.WaitUntilAsync(async () =>
        {
            if (await process.StatusAsync() is { } status)
            {
                sawStopping |= status.Liveness == "Stopping";
            }

            if (await cluster.OwnerStatusAsync() is { } owner)
            {
                var coordinator = owner.Coordinators.Single();
                maxAbsent = Math.Max(maxAbsent, coordinator.ByState["Absent"]);
            }

            return process.HasExited;
        }, Patience, $"{capture} drains and exits");
        Assert.Equal(0, process.ExitCode);
        Assert.True(process.LogContains("(drained)"), $"{capture} logged a complete drain:\n{string.Join('\n', process.Lines.TakeLast(15))}");
        Assert.True(sawStopping, $"{capture} reported liveness Stopping while draining");
        Assert.Equal(0, maxAbsent);
        await cluster.WaitUntilAsync(async () => CapstanCluster.AllReplicatingOn(await cluster.OwnerStatusAsync(), Tables, remaining),
            Patience, $"every table replicates on {string.Join(", ", remaining)}");
        cluster.Log($"{capture} drained and left in {drained.TotalMilliseconds:0} ms");
    }

    private static async Task<IReadOnlyList<string>> StaleDropsAsync(CapstanCluster cluster, IEnumerable<string> captures)
    {
        var result = new List<string>();
        foreach (var id in captures)
        {
            var status = await cluster[id].StatusAsync();
            result.Add($"{id}={status?.Agents.SingleOrDefault()?.Counters.StaleOwnerMessagesDropped}");
        }

        return result;
    }
}
