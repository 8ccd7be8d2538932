namespace Capstan.Server.Tests.Endpoints;

using System.Net;
using System.Net.Http.Json;
using Capstan.Core.Member;
using Capstan.Core.Model;
using Capstan.Runtime.Hosting;
using Capstan.Runtime.Transport;
using Capstan.Server.Configuration;
using Capstan.Server.Tests.Hosting;
using Capstan.Transport.Grpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

/// <summary>The server's HTTP endpoints on a test server, over an embedded capture.</summary>
public sealed class ServerEndpointsTests : IAsyncLifetime
{
    private readonly ServerContext _context = new(new ServerSettings { TickInterval = TimeSpan.FromMilliseconds(10) }, new CaptureId("solo"));
    private readonly InProcessTransport _transport = new();
    private WebApplication _app = null!;
    private HttpClient _client = null!;
    private CaptureSupervisor _supervisor = null!;
    private GrpcTransport _grpc = null!;
    private Task _run = Task.CompletedTask;

    public async Task InitializeAsync()
    {
        _context.Edges = await ClusterEdges.ConnectAsync(_context.Settings, NullLoggerFactory.Instance, CancellationToken.None);
        _supervisor = new CaptureSupervisor(_context.CaptureServices(_transport, NullLogger.Instance), NullLogger.Instance);
        _grpc = new GrpcTransport(_context.CaptureId, _ => null);
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseTestServer();
        builder.Services.AddSingleton(_context);
        builder.Services.AddSingleton(_supervisor);
        builder.Services.AddSingleton(_grpc);
        _app = builder.Build();
        _app.MapCapstanServerEndpoints();
        await _app.StartAsync();
        _client = _app.GetTestClient();
    }

    public async Task DisposeAsync()
    {
        _supervisor.ForceStop();
        await _run;
        await _app.DisposeAsync();
        await _grpc.DisposeAsync();
        await _context.Edges.DisposeAsync();
        await _transport.DisposeAsync();
    }

    [Fact(DisplayName = "GET /health: 503 until the capture has joined, then 200")]
    public async Task Health_UnavailableUntilJoined()
    {
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await _client.GetAsync("/health")).StatusCode);
        Join();
        await InProcessKit.WaitAsync(() => _supervisor.Phase == SupervisorPhase.Running, "the capture runs");
        var response = await _client.GetAsync("/health");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"phase\":\"Running\"", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact(DisplayName = "POST /server/changefeeds: 201 with the stored changefeed; 409 for an existing id; listed by GET; DELETE 204 then 404")]
    public async Task Changefeeds_CreateListRemove()
    {
        Join();
        var created = await _client.PostAsJsonAsync("/server/changefeeds", new CreateChangefeedRequest("cf-1", "1-10,12"), ServerEndpoints.Json);
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var view = (await created.Content.ReadFromJsonAsync<ChangefeedView>(ServerEndpoints.Json))!;
        Assert.Equal(("cf-1", 11, "1-10,12"), (view.Id, view.TableCount, view.Tables));
        Assert.Equal(view.StartTs, view.CheckpointTs);
        Assert.True(view.Epoch > 0);
        var stored = await _context.Edges.Metadata.GetChangefeedAsync("cf-1", CancellationToken.None);
        Assert.Equal(11, stored!.Tables.Count);

        var again = await _client.PostAsJsonAsync("/server/changefeeds", new CreateChangefeedRequest("cf-1", "1"), ServerEndpoints.Json);
        Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
        Assert.Contains("already exists", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        var list = await _client.GetFromJsonAsync<List<ChangefeedView>>("/server/changefeeds", ServerEndpoints.Json);
        Assert.Equal(["cf-1"], list!.Select(c => c.Id));

        Assert.Equal(HttpStatusCode.NoContent, (await _client.DeleteAsync("/server/changefeeds/cf-1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.DeleteAsync("/server/changefeeds/cf-1")).StatusCode);
    }

    [Theory(DisplayName = "POST /server/changefeeds with a bad body: 400 with a reason, nothing stored")]
    [InlineData("not json", "must be JSON")]
    [InlineData("{\"tables\": \"1-3\"}", "id:")]
    [InlineData("{\"id\": \"bad id\", \"tables\": \"1-3\"}", "id:")]
    [InlineData("{\"id\": \"cf1\"}", "no tables")]
    [InlineData("{\"id\": \"cf1\", \"tables\": \"3-1\"}", "ends before it starts")]
    [InlineData("{\"id\": \"cf1\", \"tables\": 5}", "must be JSON")]
    public async Task Changefeeds_BadBody_400(string body, string reason)
    {
        using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
        var response = await _client.PostAsync("/server/changefeeds", content);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(reason, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Empty(await _context.Edges.Metadata.ListChangefeedsAsync(CancellationToken.None));
    }

    [Fact(DisplayName = "GET /server/status: the capture, its owner term, its agent and coordinator, checkpoint writes")]
    public async Task Status_DescribesTheCapture()
    {
        Join();
        await _client.PostAsJsonAsync("/server/changefeeds", new CreateChangefeedRequest("cf1", "1-5"), ServerEndpoints.Json);
        await InProcessKit.WaitAsync(() => InProcessKit.Replicating(_supervisor) == 5, "5 tables replicate");
        await InProcessKit.WaitAsync(() => _context.Edges.Metadata.Counts.Accepted > 0, "a checkpoint was written");

        var status = (await _client.GetFromJsonAsync<ServerStatus>("/server/status", ServerEndpoints.Json))!;

        Assert.Equal(("solo", "Running", 1, 0), (status.CaptureId, status.Phase, status.Incarnation, status.Fencings));
        Assert.Equal("solo", status.Owner!.CaptureId);
        Assert.Equal(status.Owner.Revision, status.OwnerRevision);
        Assert.Equal(["solo"], status.Members.Select(m => m.Id));
        var agent = status.Agents.Single();
        Assert.Equal(("cf1", 5, 5), (agent.Changefeed, agent.Spans, agent.ByState["Replicating"]));
        Assert.Equal(status.OwnerRevision, agent.KnownOwnerRevision);
        var coordinator = status.Coordinators.Single();
        Assert.True(coordinator.Initialized);
        Assert.Equal(5, coordinator.Primaries["solo"]);
        Assert.True(status.StatusWrites.Accepted > 0);
        Assert.Equal(0, status.StatusWrites.Refused);
        Assert.NotNull(status.Transport);
        Assert.Null(status.StoreError);
    }

    private void Join() => _run = _supervisor.RunAsync(new CaptureInfo("solo", "inproc://solo", CapstanVersion.Current));
}
