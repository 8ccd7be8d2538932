namespace Capstan.Runtime.Tests.Etcd;

using System.Diagnostics;
using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Etcd;
using Capstan.Runtime.Metadata;
using Capstan.Runtime.Tests.Support;
using Grpc.Core;
using Xunit.Abstractions;

/// <summary>etcd restarts (same data directory) under live sessions, watches and an owner. Own etcd: it is restarted.</summary>
[Trait("Category", "Integration")]
public sealed class EtcdRestartTests(EtcdServer server, ITestOutputHelper output) : IClassFixture<EtcdServer>
{
    private readonly TestLogger _logger = new(output);

    [Fact(DisplayName = "Restart: etcd restarts under a live session and owner → the session is kept or reported lost and registered again; watches and writes resume")]
    public async Task EtcdRestart_SessionSurvivesOrIsReplaced()
    {
        await using var harness = new EtcdHarness(server, new EtcdClusterOptions
        {
            ClusterPrefix = "restart",
            SessionTtl = TimeSpan.FromSeconds(3),
            CallTimeout = TimeSpan.FromSeconds(2),
            Logger = _logger,
        });
        var node = await harness.AddNodeAsync();
        var observer = await harness.AddNodeAsync();
        var capture = new CaptureInfo(new CaptureId("survivor"), "127.0.0.1:1", "v1");
        await using var session = await node.Membership.RegisterAsync(capture, CancellationToken.None);
        var owner = await Eventually.CompletesAsync(node.Election.CampaignAsync(session, CancellationToken.None), "the capture becomes owner");
        var feed = new ChangefeedId("feed");
        Assert.True(await node.Store.TryPutStatusAsync(feed, new ChangefeedStatus(new Ts(10), new Ts(10)), owner, CancellationToken.None));
        await Eventually.HoldsAsync(() => observer.Membership.AliveCaptures.ContainsKey(capture.Id), "the observer sees the capture");

        var clock = Stopwatch.StartNew();
        await server.StopAsync(keepData: true);
        await server.StartAsync(keepData: true);
        var downtime = clock.Elapsed;

        // A change made after the restart must reach the old watch: it reconnected.
        await using var late = await ReachableAsync(() => observer.Membership.RegisterAsync(new CaptureInfo(new CaptureId("late"), "127.0.0.1:2", "v1"), CancellationToken.None));
        var clientBack = clock.Elapsed;
        await Eventually.HoldsAsync(() => node.Membership.AliveCaptures.ContainsKey(new CaptureId("late")), "the node's watch sees a capture registered after the restart");
        var watchBack = clock.Elapsed;
        await Eventually.HoldsAsync(() => observer.Membership.AliveCaptures.ContainsKey(capture.Id), "the capture is registered after the restart");

        var kept = !session.Lost.IsCancellationRequested;
        if (kept)
        {
            Assert.False(owner.Lost.IsCancellationRequested, "a kept session keeps its owner term");
            Assert.True(await ReachableAsync(() => node.Store.TryPutStatusAsync(feed, new ChangefeedStatus(new Ts(20), new Ts(20)), owner, CancellationToken.None)));
        }
        else
        {
            // Lost: the capture fences itself and comes back as a new incarnation that can own again.
            await Eventually.CancelledAsync(owner.Lost, "a lost session ends the owner term");
            await using var again = await ReachableAsync(() => node.Membership.RegisterAsync(capture, CancellationToken.None));
            var newOwner = await Eventually.CompletesAsync(node.Election.CampaignAsync(again, CancellationToken.None), "the new incarnation becomes owner");
            Assert.True(newOwner.Revision > owner.Revision);
            Assert.True(await ReachableAsync(() => node.Store.TryPutStatusAsync(feed, new ChangefeedStatus(new Ts(20), new Ts(20)), newOwner, CancellationToken.None)));
            await newOwner.DisposeAsync();
        }

        output.WriteLine($"MEASURED restart: etcd down+up in {downtime.TotalMilliseconds:0} ms (start {server.LastStartDuration.TotalMilliseconds:0} ms); " +
            $"a client call succeeding again after {clientBack.TotalMilliseconds:0} ms; watch delivering again after {watchBack.TotalMilliseconds:0} ms; session {(kept ? "kept" : "lost and registered again")}");
        Assert.Equal(new Ts(20), (await observer.Store.GetStatusAsync(feed, CancellationToken.None))?.CheckpointTs);
        await owner.DisposeAsync();
        _logger.AssertNoErrors();
    }

    /// <summary>Retries <paramref name="call"/> while etcd is unreachable (clients reconnect with backoff after a restart).</summary>
    private static async Task<T> ReachableAsync<T>(Func<Task<T>> call)
    {
        T? result = default;
        await Eventually.HoldsAsync(async () =>
        {
            try
            {
                result = await call();
                return true;
            }
            catch (RpcException)
            {
                return false;
            }
        }, "etcd is reachable again");
        return result!;
    }
}
