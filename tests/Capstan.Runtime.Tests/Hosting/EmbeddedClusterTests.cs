namespace Capstan.Runtime.Tests.Hosting;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Runtime.Hosting;

public class EmbeddedClusterTests
{
    [Fact(DisplayName = "Cluster: tables added to 3 captures → all Replicating, balanced (none above ⌈N/n⌉), no gap")]
    public async Task AddTables_AllReplicatingAndBalanced()
    {
        var (cluster, changefeed) = await ClusterFixture.StartAsync(captures: 3, tables: 100, seed: 7, ClusterFixture.FastBalance);
        await using var _ = cluster;

        cluster.UntilAllReplicating(changefeed);
        var snapshot = cluster.Snapshot(changefeed.Id);

        // Round-robin batches of 50 give 34/34/32: TiCDC's balance criterion (max ≤ ⌈100/3⌉ = 34) holds.
        Assert.True(snapshot.IsBalanced, snapshot.ToString());
        Assert.True(snapshot.BalanceSpread <= 2, snapshot.ToString());
        Assert.Equal(100, snapshot.Captures.Sum(c => c.Primaries));
        Assert.Equal(100, snapshot.Captures.Sum(c => c.Count(TableState.Replicating)));
        cluster.StepUntil(() => cluster.Snapshot(changefeed.Id).CheckpointLagMilliseconds < 1_000, 100, "checkpoint catches up", changefeed.Id);
        cluster.AssertNoGap(changefeed);
    }
}
