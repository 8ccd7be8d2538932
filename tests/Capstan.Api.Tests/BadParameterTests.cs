namespace Capstan.Api.Tests;

using System.Net;
using System.Text;

/// <summary>Every bad parameter is a 400 problem (never a 500, never a crash).</summary>
public sealed class BadParameterTests : IAsyncLifetime
{
    private ApiEnv _env = null!;

    public static TheoryData<string, string, string?, string> BadRequests() => new()
    {
        // method, path, body (null: none), words the message must contain
        { "GET", "/api/v2/changefeeds/bad_id", null, "changefeed_id" },
        { "GET", "/api/v2/changefeeds/" + new string('a', 129), null, "at most 128" },
        { "GET", "/api/v2/changefeeds/nope", null, "does not exist" },
        { "DELETE", "/api/v2/changefeeds/nope", null, "does not exist" },
        { "GET", "/api/v2/changefeeds/changefeed-1/tables/abc", null, "table_id" },
        { "GET", "/api/v2/changefeeds/changefeed-1/tables/0", null, "positive" },
        { "GET", "/api/v2/changefeeds/changefeed-1/tables/-5", null, "positive" },
        { "GET", "/api/v2/changefeeds/changefeed-1/tables/99999999999999999999", null, "64-bit" },
        { "GET", "/api/v2/changefeeds/changefeed-1/tables/1/explain", null, null! },
        { "GET", "/api/v2/changefeeds/changefeed-1/tables/x/explain", null, "table_id" },
        { "GET", "/api/v2/changefeeds/changefeed-1/tables?limit=0", null, "limit" },
        { "GET", "/api/v2/changefeeds/changefeed-1/tables?offset=-1", null, "offset" },
        { "GET", "/api/v2/changefeeds/changefeed-1/tables?limit=abc", null, "limit" },
        { "GET", "/api/v2/changefeeds/-/rebalance_plan", null, "changefeed_id" },
        { "GET", "/api/v2/events?since=x", null, "since" },
        { "GET", "/api/v2/events?limit=0", null, "limit" },
        { "POST", "/api/v2/changefeeds/changefeed-1/tables/move_table", null, "JSON body is required" },
        { "POST", "/api/v2/changefeeds/changefeed-1/tables/move_table", "{", "not valid JSON" },
        { "POST", "/api/v2/changefeeds/changefeed-1/tables/move_table", "[]", "not valid JSON" },
        { "POST", "/api/v2/changefeeds/changefeed-1/tables/move_table", "null", "JSON object" },
        { "POST", "/api/v2/changefeeds/changefeed-1/tables/move_table", """{"table_id": 1}""", "capture_id is required" },
        { "POST", "/api/v2/changefeeds/changefeed-1/tables/move_table", """{"capture_id": "capture-1"}""", "table_id is required" },
        { "POST", "/api/v2/changefeeds/changefeed-1/tables/move_table", """{"capture_id": "capture-1", "table_id": "7"}""", "not valid JSON" },
        { "POST", "/api/v2/changefeeds/changefeed-1/tables/move_table", """{"capture_id": "capture-1", "table_id": 1.5}""", "not valid JSON" },
        { "POST", "/api/v2/changefeeds/changefeed-1/tables/move_table", """{"capture_id": "capture-1", "table_id": -3}""", "positive" },
        { "POST", "/api/v2/changefeeds/changefeed-1/tables/move_table", """{"capture_id": "capture-1", "table_id": 99999999999999999999}""", "not valid JSON" },
        { "POST", "/api/v2/changefeeds/changefeed-1/tables/move_table", """{"capture_id": "a b", "table_id": 1}""", "capture_id" },
        { "POST", "/api/v2/changefeeds/bad!/tables/move_table", """{"capture_id": "capture-1", "table_id": 1}""", "changefeed_id" },
        { "POST", "/api/v2/changefeeds/bad!/tables/rebalance_table", null, "changefeed_id" },
        { "POST", "/api/v2/changefeeds/nope/tables/rebalance_table", null, "does not exist" },
        { "POST", "/api/v2/changefeeds", """{"changefeed_id": "x_y", "table_ids": [1]}""", "changefeed_id" },
        { "POST", "/api/v2/changefeeds", """{"changefeed_id": "ok", "table_ids": []}""", "table_ids" },
        { "POST", "/api/v2/changefeeds", """{"changefeed_id": "ok", "table_ids": [1, 1]}""", "twice" },
        { "POST", "/api/v2/changefeeds", """{"changefeed_id": "ok", "table_ids": [0]}""", "positive" },
        { "POST", "/api/v2/changefeeds", """{"changefeed_id": "ok"}""", "table_ids" },
        { "POST", "/api/v2/changefeeds", "not json", "not valid JSON" },
        { "POST", "/api/v2/changefeeds/changefeed-1/tables/add", """{"table_ids": "1"}""", "not valid JSON" },
        { "POST", "/api/v2/changefeeds/changefeed-1/tables/drop", """{}""", "table_ids" },
        { "POST", "/api/v2/captures/x--y/drain", null, "capture_id" },
    };

    public async Task InitializeAsync() => _env = await ApiEnv.StartAsync(captures: 2, tables: 4);

    public async Task DisposeAsync() => await _env.DisposeAsync();

    [Theory(DisplayName = "Bad parameter → 400 problem with an actionable message")]
    [MemberData(nameof(BadRequests))]
    public async Task BadParameter_Is400(string method, string path, string? body, string? mentions)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        using var response = await _env.Client.SendAsync(request);
        if (path.EndsWith("/tables/1/explain", StringComparison.Ordinal))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode); // a valid request among the bad ones: the server still works
            return;
        }

        await ProblemAssert.IsProblemAsync(response, HttpStatusCode.BadRequest, mentions);
    }

    [Fact(DisplayName = "Unknown table of a known changefeed: 404 problem")]
    public async Task UnknownTable_Is404() =>
        await ProblemAssert.IsProblemAsync(await _env.Client.GetAsync("/api/v2/changefeeds/changefeed-1/tables/4242"), HttpStatusCode.NotFound, "no replication set");
}
