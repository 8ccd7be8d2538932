namespace Capstan.Server;

using System.Text.Json;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Core.Replication;
using Capstan.Runtime.Hosting;
using Capstan.Runtime.Metadata;
using Capstan.Server.Configuration;
using Capstan.Transport.Grpc;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

/// <summary>The body of <c>POST /server/changefeeds</c>.</summary>
/// <param name="Id">Changefeed id (letters and digits in dash-separated groups).</param>
/// <param name="Tables">Tables as a list: <c>"1-1000"</c>, <c>"1,2,5-9"</c>.</param>
public sealed record CreateChangefeedRequest(string? Id, string? Tables);

/// <summary>
/// The server's own HTTP endpoints: <c>GET /health</c>, <c>GET /server/status</c>, and the
/// minimal changefeed bootstrap <c>GET|POST /server/changefeeds</c>, <c>DELETE /server/changefeeds/{id}</c>.
/// (The operator API, when hosted, adds /api/v2, /metrics and the dashboard.)
/// </summary>
public static class ServerEndpoints
{
    /// <summary>The JSON shape of every response (camelCase, enums as strings).</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter() },
        WriteIndented = false,
    };

    /// <summary>Maps the endpoints.</summary>
    public static IEndpointRouteBuilder MapCapstanServerEndpoints(this IEndpointRouteBuilder endpoints)
    {
        ArgumentNullException.ThrowIfNull(endpoints);
        endpoints.MapGet("/health", (CaptureSupervisor supervisor) =>
        {
            var phase = supervisor.Phase;
            var body = new { status = phase == SupervisorPhase.Running ? "ok" : "unavailable", phase = phase.ToString() };
            return Results.Json(body, Json, statusCode: phase == SupervisorPhase.Running ? 200 : 503);
        });
        endpoints.MapGet("/server/status", async (ServerContext context, CaptureSupervisor supervisor, GrpcTransport transport, CancellationToken cancellationToken) =>
            Results.Json(await StatusAsync(context, supervisor, transport, cancellationToken).ConfigureAwait(false), Json));
        endpoints.MapGet("/server/changefeeds", (ServerContext context, CancellationToken cancellationToken) => GuardAsync(async () =>
            Results.Json(await ListAsync(context, cancellationToken).ConfigureAwait(false), Json)));
        endpoints.MapPost("/server/changefeeds", (HttpRequest request, ServerContext context, CancellationToken cancellationToken) =>
            GuardAsync(() => CreateAsync(request, context, cancellationToken)));
        endpoints.MapDelete("/server/changefeeds/{id}", (string id, ServerContext context, CancellationToken cancellationToken) => GuardAsync(async () =>
            await context.Edges.Metadata.RemoveChangefeedAsync(new ChangefeedId(id), cancellationToken).ConfigureAwait(false)
                ? Results.NoContent()
                : Problem(404, $"changefeed '{id}' does not exist")));
        return endpoints;
    }

    /// <summary>This capture's status.</summary>
    public static async Task<ServerStatus> StatusAsync(
        ServerContext context, CaptureSupervisor supervisor, GrpcTransport? transport, CancellationToken cancellationToken)
    {
        var node = supervisor.Current;
        var snapshot = node?.Snapshot();
        OwnerView? owner = null;
        string? storeError = null;
        try
        {
            using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bounded.CancelAfter(TimeSpan.FromSeconds(2));
            if (await context.Edges.Election.GetOwnerAsync(bounded.Token).ConfigureAwait(false) is { } record)
            {
                owner = new OwnerView(record.Capture.Value, record.Revision.Value);
            }
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            storeError = error.Message;
        }

        var members = new List<MemberView>();
        foreach (var capture in context.Edges.Membership.AliveCaptures.Values)
        {
            members.Add(new MemberView(capture.Id.Value, capture.Address, capture.ApiAddress, capture.Version));
        }

        members.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        return new ServerStatus
        {
            CaptureId = context.CaptureId.Value,
            Version = CapstanVersion.Current,
            Cluster = context.Edges.Description,
            Phase = supervisor.Phase.ToString(),
            GrpcAddress = context.GrpcAddress,
            HttpUrl = context.HttpUrl,
            Incarnation = supervisor.Incarnations.Count,
            Fencings = supervisor.Fencings,
            Epoch = snapshot?.Epoch.Value,
            State = snapshot?.State.ToString(),
            Liveness = snapshot?.Liveness.ToString(),
            OwnerRevision = snapshot?.OwnerRevision?.Value,
            Owner = owner,
            Members = members,
            Agents = snapshot is null ? [] : snapshot.Agents.Select(AgentViewOf).ToList(),
            Coordinators = snapshot is null ? [] : snapshot.Owners.Select(CoordinatorViewOf).ToList(),
            StatusWrites = context.Edges.Metadata.Counts,
            Transport = transport is null ? null : TransportViewOf(transport.Counters),
            StoreError = storeError,
        };
    }

    /// <summary>Every changefeed with its persisted progress.</summary>
    public static async Task<IReadOnlyList<ChangefeedView>> ListAsync(ServerContext context, CancellationToken cancellationToken)
    {
        var metadata = context.Edges.Metadata;
        var views = new List<ChangefeedView>();
        foreach (var info in await metadata.ListChangefeedsAsync(cancellationToken).ConfigureAwait(false))
        {
            var status = await metadata.GetStatusAsync(info.Id, cancellationToken).ConfigureAwait(false);
            views.Add(ChangefeedViewOf(context, info, status));
        }

        views.Sort((a, b) => string.CompareOrdinal(a.Id, b.Id));
        return views;
    }

    private static async Task<IResult> CreateAsync(HttpRequest request, ServerContext context, CancellationToken cancellationToken)
    {
        CreateChangefeedRequest? body;
        try
        {
            body = await request.ReadFromJsonAsync<CreateChangefeedRequest>(Json, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception error) when (error is JsonException or InvalidOperationException or BadHttpRequestException)
        {
            return Problem(400, $"the body must be JSON like {{\"id\": \"cf1\", \"tables\": \"1-1000\"}} ({error.Message})");
        }

        if (body?.Id is not { } id || !CaptureIds.IsValid(id))
        {
            return Problem(400, $"id: '{body?.Id}' must be letters and digits in dash-separated groups (e.g. cf-1), at most 128 characters");
        }

        IReadOnlyList<TableId> tables;
        try
        {
            tables = TableLists.Parse(body.Tables ?? string.Empty);
        }
        catch (FormatException error)
        {
            return Problem(400, $"tables: {error.Message}");
        }

        var metadata = context.Edges.Metadata;
        if (await metadata.GetChangefeedAsync(id, cancellationToken).ConfigureAwait(false) is not null)
        {
            return Problem(409, $"changefeed '{id}' already exists; remove it first or pick another id");
        }

        var info = new ChangefeedInfo
        {
            Id = id,
            Tables = tables,
            StartTs = context.Clock.Now(),
            Epoch = new ChangefeedEpoch(context.Clock.Next().Value),
        };
        await metadata.PutChangefeedAsync(info, cancellationToken).ConfigureAwait(false);
        return Results.Json(ChangefeedViewOf(context, info, null), Json, statusCode: 201);
    }

    /// <summary>Turns an unreachable cluster store into a 503 the caller can retry, instead of a 500.</summary>
    private static async Task<IResult> GuardAsync(Func<Task<IResult>> handle)
    {
        try
        {
            return await handle().ConfigureAwait(false);
        }
        catch (Exception error) when (error is Grpc.Core.RpcException or IOException or HttpRequestException or TimeoutException)
        {
            return Problem(503, $"the cluster store cannot be reached right now ({error.Message}); retry");
        }
    }

    private static IResult Problem(int status, string detail) => Results.Problem(detail: detail, statusCode: status);

    private static ChangefeedView ChangefeedViewOf(ServerContext context, ChangefeedInfo info, ChangefeedStatus? status)
    {
        var checkpoint = status?.CheckpointTs ?? info.StartTs;
        return new ChangefeedView
        {
            Id = info.Id.Value,
            TableCount = info.Tables.Count,
            Tables = TableLists.Format(info.Tables),
            StartTs = info.StartTs.Value,
            Epoch = info.Epoch.Value,
            CheckpointTs = checkpoint.Value,
            ResolvedTs = (status?.ResolvedTs ?? info.StartTs).Value,
            CheckpointLagMilliseconds = context.Clock.NowMilliseconds - checkpoint.PhysicalMilliseconds,
        };
    }

    private static AgentView AgentViewOf(AgentSnapshot agent)
    {
        var byState = new Dictionary<string, int>();
        foreach (var state in (TableState[])[TableState.Preparing, TableState.Prepared, TableState.Replicating, TableState.Stopping, TableState.Stopped])
        {
            byState[state.ToString()] = agent.Count(state);
        }

        return new AgentView
        {
            Changefeed = agent.Changefeed.Value,
            Spans = agent.SpanCount,
            ByState = byState,
            KnownOwner = agent.Owner.Capture.IsNone ? null : agent.Owner.Capture.Value,
            KnownOwnerRevision = agent.Owner.Revision.Value,
            Counters = agent.Counters,
        };
    }

    private static CoordinatorView CoordinatorViewOf(OwnerSnapshot owner)
    {
        var byState = new Dictionary<string, int>();
        foreach (var state in (ReplicationSetState[])[ReplicationSetState.Absent, ReplicationSetState.Prepare, ReplicationSetState.Commit,
                     ReplicationSetState.Replicating, ReplicationSetState.Removing])
        {
            byState[state.ToString()] = (int)state < owner.SetsByState.Count ? owner.SetsByState[(int)state] : 0;
        }

        return new CoordinatorView
        {
            Changefeed = owner.Changefeed.Value,
            Revision = owner.Revision.Value,
            Initialized = owner.IsInitialized,
            Sets = owner.SetCount,
            ByState = byState,
            Primaries = owner.PrimaryCounts.ToDictionary(pair => pair.Key.Value, pair => pair.Value),
            Captures = owner.CaptureStates.ToDictionary(pair => pair.Key.Value, pair => pair.Value),
            RunningTasks = owner.RunningTasks,
            CheckpointTs = owner.CheckpointTs.Value,
            ResolvedTs = owner.ResolvedTs.Value,
            CoordinatorRestarts = owner.CoordinatorRestarts,
            Deposed = owner.Deposed,
        };
    }

    private static TransportView TransportViewOf(GrpcTransportCounters counters) => new()
    {
        SentMessages = counters.SentMessages,
        Received = counters.Received,
        SelfDelivered = counters.SelfDelivered,
        RefusedSendBufferFull = counters.RefusedSendBufferFull,
        RefusedOversize = counters.RefusedOversize,
        RefusedUnknownPeer = counters.RefusedUnknownPeer,
        DroppedOnDisconnect = counters.DroppedOnDisconnect,
        RejectedBadFrames = counters.RejectedBadFrames,
        RejectedMalformed = counters.RejectedMalformed,
        RejectedUnknownEndpoint = counters.RejectedUnknownEndpoint,
        RejectedInboxFull = counters.RejectedInboxFull,
        Reconnects = counters.Reconnects,
    };
}
