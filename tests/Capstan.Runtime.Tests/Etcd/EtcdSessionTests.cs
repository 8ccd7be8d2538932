namespace Capstan.Runtime.Tests.Etcd;

using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Etcd;
using Capstan.Runtime.Tests.Support;
using Xunit.Abstractions;

/// <summary>How an etcd session reacts when its registration is changed behind its back.</summary>
[Trait("Category", "Integration")]
public sealed class EtcdSessionTests(EtcdServer server, ITestOutputHelper output) : IClassFixture<EtcdServer>
{
    private readonly TestLogger _logger = new(output);

    [Fact(DisplayName = "Session: the capture key deleted behind its back → the session is lost, gives up its owner term's key, and the capture registers again")]
    public async Task CaptureKeyDeleted_SessionLost_OwnerKeyGoes()
    {
        await using var harness = new EtcdHarness(server, Options());
        var a = await harness.AddNodeAsync();
        var b = await harness.AddNodeAsync();
        await using var sessionA = await a.Membership.RegisterAsync(new CaptureInfo(new CaptureId("a"), "a:1", "v1"), CancellationToken.None);
        await using var sessionB = await b.Membership.RegisterAsync(new CaptureInfo(new CaptureId("b"), "b:1", "v1"), CancellationToken.None);
        var ownerA = await Eventually.CompletesAsync(a.Election.CampaignAsync(sessionA, CancellationToken.None), "a wins");
        var campaignB = b.Election.CampaignAsync(sessionB, CancellationToken.None);
        await Eventually.HoldsAsync(async () => await harness.CampaignCountAsync() == 2, "b waits behind a");
        var firstLease = ((EtcdCaptureSession)sessionA).LeaseId;

        // The lease is still alive: only the loss of the session can free the owner key.
        await harness.Admin.DeleteAsync($"/{harness.Options.ClusterPrefix}/captures/a");

        await Eventually.CancelledAsync(sessionA.Lost, "a's session is lost");
        await Eventually.CancelledAsync(ownerA.Lost, "a's term ends");
        var ownerB = await Eventually.CompletesAsync(campaignB, "b wins once a's owner key is gone");
        Assert.True(ownerB.Revision > ownerA.Revision);
        await Eventually.HoldsAsync(() => b.Membership.AliveCaptures.ContainsKey(new CaptureId("a")), "a is registered again");
        Assert.NotEqual(firstLease, ((EtcdCaptureSession)sessionA).LeaseId);
        await ownerB.DisposeAsync();
        _logger.AssertNoErrors();
    }

    [Fact(DisplayName = "Session: the same capture registered by another process → the older session is lost and never overwrites the newer registration")]
    public async Task SameCaptureRegisteredElsewhere_OlderSessionLost()
    {
        await using var harness = new EtcdHarness(server, Options());
        var first = await harness.AddNodeAsync();
        var second = await harness.AddNodeAsync();
        var capture = new CaptureInfo(new CaptureId("twin"), "old:1", "v1");
        await using var older = await first.Membership.RegisterAsync(capture, CancellationToken.None);

        await using var newer = await second.Membership.RegisterAsync(capture with { Address = "new:1" }, CancellationToken.None);

        await Eventually.CancelledAsync(older.Lost, "the older session is lost");
        await Eventually.HoldsAsync(() => ((EtcdCaptureSession)older).LeaseId != ((EtcdCaptureSession)newer).LeaseId
            && first.Membership.AliveCaptures.TryGetValue(capture.Id, out var seen) && seen.Address == "new:1", "the newer registration is seen");
        await older.DisposeAsync();
        Assert.False(newer.Lost.IsCancellationRequested);
        var response = await harness.Admin.GetAsync($"/{harness.Options.ClusterPrefix}/captures/twin");
        Assert.Equal(((EtcdCaptureSession)newer).LeaseId, Assert.Single(response.Kvs).Lease);
        _logger.AssertNoErrors();
    }

    private EtcdClusterOptions Options() => new()
    {
        ClusterPrefix = "session",
        SessionTtl = TimeSpan.FromSeconds(5),
        Logger = _logger,
    };
}
