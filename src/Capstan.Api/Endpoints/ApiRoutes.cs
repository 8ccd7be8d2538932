namespace Capstan.Api.Endpoints;

using Capstan.Api.Contracts;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

/// <summary>The /api/v2 routes and their OpenAPI descriptions.</summary>
internal static class ApiRoutes
{
    public static void Map(IEndpointRouteBuilder endpoints)
    {
        var api = endpoints.MapGroup("/api/v2").AddEndpointFilter<UnexpectedErrorFilter>();
        var local = api.MapGroup(string.Empty).AddEndpointFilter(new BearerTokenFilter(mutating: false));
        local.MapGet("/health", Handler(ClusterHandlers.HealthAsync)).WithName("Health").WithTags("cluster")
            .WithSummary("Health of the capture serving the request (never forwarded)").Produces<HealthDto>();
        local.MapGet("/status", Handler(ClusterHandlers.HealthAsync)).WithName("Status").WithTags("cluster")
            .WithSummary("Same as /health (TiCDC's status)").Produces<HealthDto>();
        local.MapGet("/owner", Handler(ClusterHandlers.OwnerAsync)).WithName("GetOwner").WithTags("cluster")
            .WithSummary("The owner capture and its term").Produces<OwnerDto>().ProducesProblem(503);

        var reads = api.MapGroup(string.Empty).AddEndpointFilter(new BearerTokenFilter(mutating: false)).AddEndpointFilter<OwnerOnlyFilter>();
        var writes = api.MapGroup(string.Empty).AddEndpointFilter(new BearerTokenFilter(mutating: true)).AddEndpointFilter<OwnerOnlyFilter>();
        MapClusterRoutes(reads, writes);
        MapChangefeedRoutes(reads, writes);
        MapTableRoutes(reads, writes);
    }

    /// <summary>Gives a method group its Delegate type, so that minimal APIs write its IResult (not a RequestDelegate).</summary>
    private static Delegate Handler(Func<HttpContext, Task<IResult>> handler) => handler;

    private static void MapClusterRoutes(RouteGroupBuilder reads, RouteGroupBuilder writes)
    {
        reads.MapGet("/captures", Handler(ClusterHandlers.ListCapturesAsync)).WithName("ListCaptures").WithTags("cluster")
            .WithSummary("Alive captures: owner, liveness, state and table count").Produces<List<CaptureDto>>().ProducesProblem(503);
        writes.MapPost("/captures/{capture_id}/drain", (HttpContext http, string capture_id) => ClusterHandlers.DrainAsync(http, capture_id))
            .WithName("DrainCapture").WithTags("cluster")
            .WithSummary("Move every table off a capture; re-issue until current_table_count is 0")
            .Produces<DrainResponseDto>(StatusCodes.Status202Accepted).ProducesProblem(400).ProducesProblem(401).ProducesProblem(503);
        writes.MapPost("/owner/resign", Handler(ClusterHandlers.ResignAsync)).WithName("ResignOwner").WithTags("cluster")
            .WithSummary("The owner gives up its term; another capture is elected")
            .Produces<CommandResultDto>(StatusCodes.Status202Accepted).ProducesProblem(401).ProducesProblem(503);
        reads.MapGet("/events", (HttpContext http, string? since, string? limit) => TableHandlers.Events(http, since, limit))
            .WithName("ListEvents").WithTags("cluster")
            .WithSummary("Scheduling timeline: tasks, move phases, drains, owner changes, captures joining and leaving")
            .Produces<EventsDto>().ProducesProblem(400);
    }

    private static void MapChangefeedRoutes(RouteGroupBuilder reads, RouteGroupBuilder writes)
    {
        writes.MapPost("/changefeeds", Handler(ChangefeedHandlers.CreateAsync)).WithName("CreateChangefeed").WithTags("changefeeds")
            .WithSummary("Create a changefeed over a list of tables").Accepts<CreateChangefeedRequest>("application/json")
            .Produces<ChangefeedDto>(StatusCodes.Status201Created).ProducesProblem(400).ProducesProblem(409);
        reads.MapGet("/changefeeds", Handler(ChangefeedHandlers.ListAsync)).WithName("ListChangefeeds").WithTags("changefeeds")
            .WithSummary("Every changefeed with checkpoint ts, resolved ts and lag").Produces<List<ChangefeedDto>>();
        reads.MapGet("/changefeeds/{changefeed_id}", (HttpContext http, string changefeed_id) => ChangefeedHandlers.GetAsync(http, changefeed_id))
            .WithName("GetChangefeed").WithTags("changefeeds").WithSummary("One changefeed with its tables")
            .Produces<ChangefeedDto>().ProducesProblem(400);
        writes.MapDelete("/changefeeds/{changefeed_id}", (HttpContext http, string changefeed_id) => ChangefeedHandlers.RemoveAsync(http, changefeed_id))
            .WithName("RemoveChangefeed").WithTags("changefeeds").WithSummary("Remove a changefeed")
            .Produces<CommandResultDto>().ProducesProblem(400);
        writes.MapPost("/changefeeds/{changefeed_id}/tables/add", (HttpContext http, string changefeed_id) => ChangefeedHandlers.AddTablesAsync(http, changefeed_id))
            .WithName("AddTables").WithTags("changefeeds").WithSummary("Add tables to a changefeed").Accepts<TablesRequest>("application/json")
            .Produces<CommandResultDto>(StatusCodes.Status202Accepted).ProducesProblem(400);
        writes.MapPost("/changefeeds/{changefeed_id}/tables/drop", (HttpContext http, string changefeed_id) => ChangefeedHandlers.DropTablesAsync(http, changefeed_id))
            .WithName("DropTables").WithTags("changefeeds").WithSummary("Drop tables from a changefeed").Accepts<TablesRequest>("application/json")
            .Produces<CommandResultDto>(StatusCodes.Status202Accepted).ProducesProblem(400);
    }

    private static void MapTableRoutes(RouteGroupBuilder reads, RouteGroupBuilder writes)
    {
        reads.MapGet("/changefeeds/{changefeed_id}/tables", (HttpContext http, string changefeed_id, string? offset, string? limit) =>
                TableHandlers.ListAsync(http, changefeed_id, offset, limit))
            .WithName("ListTables").WithTags("tables")
            .WithSummary("Replication sets: span, state, primary, secondary, checkpoint ts, resolved ts, task in flight")
            .Produces<List<TableDto>>().ProducesProblem(400).ProducesProblem(503);
        reads.MapGet("/changefeeds/{changefeed_id}/tables/{table_id}", (HttpContext http, string changefeed_id, string table_id) =>
                TableHandlers.GetAsync(http, changefeed_id, table_id))
            .WithName("GetTable").WithTags("tables").WithSummary("One table's replication set (follow a move's progress here)")
            .Produces<TableDto>().ProducesProblem(400).ProducesProblem(404);
        reads.MapGet("/changefeeds/{changefeed_id}/tables/{table_id}/explain", (HttpContext http, string changefeed_id, string table_id) =>
                TableHandlers.ExplainAsync(http, changefeed_id, table_id))
            .WithName("ExplainTable").WithTags("tables")
            .WithSummary("Why a table is where it is: which scheduler placed it, when, and its last transitions")
            .Produces<ExplainDto>().ProducesProblem(400);
        writes.MapPost("/changefeeds/{changefeed_id}/tables/move_table", (HttpContext http, string changefeed_id) => TableHandlers.MoveAsync(http, changefeed_id))
            .WithName("MoveTable").WithTags("tables")
            .WithSummary("Move a table to a capture; 202 when the scheduler accepted it, 400 with the reason when not")
            .Accepts<MoveTableRequest>("application/json")
            .Produces<CommandResultDto>(StatusCodes.Status202Accepted).ProducesProblem(400).ProducesProblem(401).ProducesProblem(503);
        writes.MapPost("/changefeeds/{changefeed_id}/tables/rebalance_table", (HttpContext http, string changefeed_id) => TableHandlers.RebalanceAsync(http, changefeed_id))
            .WithName("Rebalance").WithTags("tables").WithSummary("Rebalance table counts across captures (one burst)")
            .Produces<CommandResultDto>(StatusCodes.Status202Accepted).ProducesProblem(400).ProducesProblem(401);
        reads.MapGet("/changefeeds/{changefeed_id}/rebalance_plan", (HttpContext http, string changefeed_id) => TableHandlers.PlanAsync(http, changefeed_id))
            .WithName("PlanRebalance").WithTags("tables").WithSummary("What a rebalance would move now, without doing it")
            .Produces<RebalancePlanDto>().ProducesProblem(400);
    }
}
