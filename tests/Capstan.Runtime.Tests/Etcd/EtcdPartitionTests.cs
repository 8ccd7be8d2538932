namespace Capstan.Runtime.Tests.Etcd;

using System.Diagnostics;
using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Etcd;
using Capstan.Runtime.Metadata;
using Capstan.Runtime.Tests.Support;
using Grpc.Core;
using Xunit.Abstractions;

/// <summary>Lease expiry and owner failover with a capture cut off from etcd by a partition proxy.</summary>
[Trait("Category", "Integration")]
public sealed class EtcdPartitionTests(EtcdServer server, ITestOutputHelper output) : IClassFixture<EtcdServer>
{
    private readonly TestLogger _logger = new(output);

    [Fact(DisplayName = "Lease expiry: a capture cut off longer than its TTL disappears and is lost; once healed it registers again")]
    public async Task CutOffCapture_Expires_ThenRegistersAgain()
    {
        await using var harness = new EtcdHarness(server, Options(ttlSeconds: 1));
        await using var proxy = new TcpPartitionProxy(server.ClientPort);
        var observer = await harness.AddNodeAsync();
        var node = await harness.AddNodeAsync(proxy.Endpoint);
        var capture = new CaptureInfo(new CaptureId("cut-off"), "127.0.0.1:1", "v1");
        await using var session = await node.Membership.RegisterAsync(capture, CancellationToken.None);
        var firstLease = ((EtcdCaptureSession)session).LeaseId;
        await Eventually.HoldsAsync(() => observer.Membership.AliveCaptures.ContainsKey(capture.Id), "the observer sees the capture");

        var clock = Stopwatch.StartNew();
        proxy.Partition();
        await Eventually.CancelledAsync(session.Lost, "the cut-off capture knows its session is lost");
        var lostAfter = clock.Elapsed;
        await Eventually.HoldsAsync(() => !observer.Membership.AliveCaptures.ContainsKey(capture.Id), "the observer no longer sees the capture");
        var goneAfter = clock.Elapsed;
        proxy.Heal();
        await Eventually.HoldsAsync(() => observer.Membership.AliveCaptures.ContainsKey(capture.Id), "the capture registered again");
        var backAfter = clock.Elapsed;

        output.WriteLine($"MEASURED ttl=1s: lost (self-fenced) after {lostAfter.TotalMilliseconds:0} ms, " +
            $"gone for others after {goneAfter.TotalMilliseconds:0} ms, registered again {(backAfter - goneAfter).TotalMilliseconds:0} ms after healing");
        Assert.NotEqual(firstLease, ((EtcdCaptureSession)session).LeaseId);
        await Eventually.HoldsAsync(() => ((EtcdCaptureSession)session).Reregistrations == 1, "the session counts one registration under a new lease");
        _logger.AssertNoErrors();
    }

    [Fact(DisplayName = "Failover: the owner is cut off; the waiting capture wins after the TTL with a larger revision and the deposed owner can no longer write")]
    public async Task CutOffOwner_IsReplaced_AndCannotWrite()
    {
        await using var harness = new EtcdHarness(server, Options(ttlSeconds: 2));
        await using var proxy = new TcpPartitionProxy(server.ClientPort);
        var a = await harness.AddNodeAsync(proxy.Endpoint);
        var b = await harness.AddNodeAsync();
        await using var sessionA = await a.Membership.RegisterAsync(new CaptureInfo(new CaptureId("a"), "a:1", "v1"), CancellationToken.None);
        await using var sessionB = await b.Membership.RegisterAsync(new CaptureInfo(new CaptureId("b"), "b:1", "v1"), CancellationToken.None);
        var feed = new ChangefeedId("feed");
        var ownerA = await Eventually.CompletesAsync(a.Election.CampaignAsync(sessionA, CancellationToken.None), "a wins");
        Assert.True(await a.Store.TryPutStatusAsync(feed, new ChangefeedStatus(new Ts(100), new Ts(100)), ownerA, CancellationToken.None));
        var campaignB = b.Election.CampaignAsync(sessionB, CancellationToken.None);
        await Eventually.HoldsAsync(async () => await harness.CampaignCountAsync() == 2, "b waits behind a");

        var clock = Stopwatch.StartNew();
        var fencedAfter = TimeSpan.Zero;
        using var onFenced = ownerA.Lost.Register(() => fencedAfter = clock.Elapsed);
        proxy.Partition();
        var ownerB = await Eventually.CompletesAsync(campaignB, "b takes over");
        var failover = clock.Elapsed;
        await Eventually.CancelledAsync(ownerA.Lost, "a knows it is no longer the owner");
        Assert.True(ownerB.Revision > ownerA.Revision);
        Assert.True(await b.Store.TryPutStatusAsync(feed, new ChangefeedStatus(new Ts(200), new Ts(200)), ownerB, CancellationToken.None));
        proxy.Heal();

        var written = await WriteOnceReachableAsync(a.Store, feed, new ChangefeedStatus(new Ts(900), new Ts(900)), ownerA);

        output.WriteLine($"MEASURED ttl=2s: failover to b after {failover.TotalMilliseconds:0} ms; a fenced itself after {fencedAfter.TotalMilliseconds:0} ms");
        Assert.False(written);
        Assert.Equal(new ChangefeedStatus(new Ts(200), new Ts(200)), await b.Store.GetStatusAsync(feed, CancellationToken.None));
        Assert.Equal(new CaptureId("b"), (await a.Election.GetOwnerAsync(CancellationToken.None))?.Capture);
        await ownerB.DisposeAsync();
        _logger.AssertNoErrors();
    }

    /// <summary>Retries the write while the healed connection is re-established; returns its result.</summary>
    private static async Task<bool> WriteOnceReachableAsync(IMetadataStore store, ChangefeedId feed, ChangefeedStatus status, Runtime.Membership.IOwnerLease owner)
    {
        bool? result = null;
        await Eventually.HoldsAsync(async () =>
        {
            try
            {
                result = await store.TryPutStatusAsync(feed, status, owner, CancellationToken.None);
                return true;
            }
            catch (RpcException)
            {
                return false;
            }
        }, "the deposed owner reaches etcd again");
        return result!.Value;
    }

    private EtcdClusterOptions Options(int ttlSeconds) => new()
    {
        ClusterPrefix = "partition",
        SessionTtl = TimeSpan.FromSeconds(ttlSeconds),
        CallTimeout = TimeSpan.FromSeconds(1),
        Logger = _logger,
    };
}
