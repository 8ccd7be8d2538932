namespace Capstan.Integration.Tests;

using Capstan.Integration.Tests.Support;
using Xunit.Abstractions;

/// <summary>etcd restarted under a running 3-capture cluster (each test has its own etcd).</summary>
[Trait("Category", "Integration")]
public sealed class EtcdRestartTests(ITestOutputHelper output)
{
    private const int Tables = 1000;
    private static readonly string[] Three = ["c1", "c2", "c3"];
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(120);

    [Theory(DisplayName = "etcd restarted under a running cluster (data kept): captures keep their sessions or rejoin; nothing is lost, the checkpoint never goes back")]
    [InlineData(0)]
    [InlineData(5)]
    public async Task EtcdRestarted_ClusterRecovers_NothingLost(int outageSeconds)
    {
        var etcd = new EtcdServer();
        await etcd.InitializeAsync();
        try
        {
            await using var cluster = new CapstanCluster(etcd, output, $"EtcdRestarted{outageSeconds}s");
            await cluster.StartAllAsync(Three);
            await cluster.CreateChangefeedAsync($"1-{Tables}");
            await cluster.WaitUntilBalancedAsync(Tables, Three, Patience);
            await using var monitor = new CheckpointMonitor(cluster);
            await cluster.WaitUntilAsync(() => Task.FromResult(monitor.Highest > 0), Patience, "the checkpoint monitor reads a checkpoint");

            await etcd.StopAsync(keepData: true);
            var stoppedAt = monitor.Now;
            var baseline = monitor.Highest;
            cluster.Log($"etcd stopped at checkpoint {baseline}; outage {outageSeconds} s (session TTL 2 s)");
            if (outageSeconds > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds(outageSeconds)); // the outage itself, not a synchronisation wait
            }

            await etcd.StartAsync(keepData: true);
            cluster.Log("etcd started again with its data");

            await cluster.WaitUntilAsync(async () =>
            {
                var statuses = await cluster.StatusesAsync();
                return statuses.Count == 3 && statuses.All(status => status.Phase == "Running" && status.Members.Count == 3);
            }, Patience, "all three captures run and see each other again");
            await cluster.WaitUntilBalancedAsync(Tables, Three, Patience);
            var advanced = await monitor.WaitAboveAsync(baseline, stoppedAt, Patience, "the checkpoint advances past where it was");
            cluster.Log($"checkpoint advancing again {advanced.TotalMilliseconds - stoppedAt.TotalMilliseconds:0} ms after etcd stopped");

            var statuses = await cluster.StatusesAsync();
            cluster.Log("incarnations after the restart: " + string.Join(", ", statuses.Select(s => $"{s.CaptureId}={s.Incarnation} (fenced {s.Fencings})")));
            if (outageSeconds >= 4)
            {
                // Longer than 2 TTLs: no keep-alive could be confirmed, so every capture fenced itself and joined again.
                Assert.All(statuses, status => Assert.True(status.Fencings >= 1, $"{status.CaptureId} fenced itself"));
            }

            var changefeed = (await cluster.ChangefeedAsync())!;
            Assert.Equal(Tables, changefeed.TableCount);
            Assert.Empty(monitor.Regressions);
        }
        finally
        {
            await etcd.DisposeAsync();
        }
    }
}
