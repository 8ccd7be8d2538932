namespace Capstan.Api.Client;

using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Capstan.Api.Contracts;

/// <summary>An error answer of the API: its status and the problem's detail.</summary>
public sealed class CapstanApiException : Exception
{
    /// <summary>Creates the error.</summary>
    public CapstanApiException(HttpStatusCode status, string title, string detail)
        : base($"{(int)status} {title}: {detail}")
    {
        Status = status;
        Title = title;
        Detail = detail;
    }

    /// <summary>HTTP status.</summary>
    public HttpStatusCode Status { get; }

    /// <summary>Problem title.</summary>
    public string Title { get; }

    /// <summary>Problem detail (what went wrong and what to do).</summary>
    public string Detail { get; }
}

/// <summary>A typed client of /api/v2 (used by <c>capstan cli</c>).</summary>
public sealed class CapstanApiClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly bool _ownsClient;

    /// <summary>A client of the server at <paramref name="server"/>, with an optional bearer token.</summary>
    public CapstanApiClient(Uri server, string? token = null, TimeSpan? timeout = null)
        : this(new HttpClient { BaseAddress = server, Timeout = timeout ?? TimeSpan.FromSeconds(30) }, token, ownsClient: true)
    {
    }

    /// <summary>A client over an existing <see cref="HttpClient"/> (its BaseAddress is the server).</summary>
    public CapstanApiClient(HttpClient http, string? token = null, bool ownsClient = false)
    {
        ArgumentNullException.ThrowIfNull(http);
        _http = http;
        _ownsClient = ownsClient;
        if (!string.IsNullOrEmpty(token))
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
    }

    /// <summary>GET /api/v2/health.</summary>
    public Task<HealthDto> HealthAsync(CancellationToken cancellationToken = default) => GetAsync<HealthDto>("api/v2/health", cancellationToken);

    /// <summary>GET /api/v2/owner.</summary>
    public Task<OwnerDto> OwnerAsync(CancellationToken cancellationToken = default) => GetAsync<OwnerDto>("api/v2/owner", cancellationToken);

    /// <summary>GET /api/v2/captures.</summary>
    public Task<List<CaptureDto>> ListCapturesAsync(CancellationToken cancellationToken = default) =>
        GetAsync<List<CaptureDto>>("api/v2/captures", cancellationToken);

    /// <summary>POST /api/v2/captures/{id}/drain.</summary>
    public Task<DrainResponseDto> DrainCaptureAsync(string captureId, CancellationToken cancellationToken = default) =>
        SendAsync<DrainResponseDto>(HttpMethod.Post, $"api/v2/captures/{Escape(captureId)}/drain", null, cancellationToken);

    /// <summary>POST /api/v2/owner/resign.</summary>
    public Task<CommandResultDto> ResignOwnerAsync(CancellationToken cancellationToken = default) =>
        SendAsync<CommandResultDto>(HttpMethod.Post, "api/v2/owner/resign", null, cancellationToken);

    /// <summary>POST /api/v2/changefeeds.</summary>
    public Task<ChangefeedDto> CreateChangefeedAsync(string changefeedId, IReadOnlyList<long> tableIds, CancellationToken cancellationToken = default) =>
        SendAsync<ChangefeedDto>(HttpMethod.Post, "api/v2/changefeeds", new CreateChangefeedRequest(changefeedId, [.. tableIds]), cancellationToken);

    /// <summary>GET /api/v2/changefeeds.</summary>
    public Task<List<ChangefeedDto>> ListChangefeedsAsync(CancellationToken cancellationToken = default) =>
        GetAsync<List<ChangefeedDto>>("api/v2/changefeeds", cancellationToken);

    /// <summary>GET /api/v2/changefeeds/{id}.</summary>
    public Task<ChangefeedDto> GetChangefeedAsync(string changefeedId, CancellationToken cancellationToken = default) =>
        GetAsync<ChangefeedDto>($"api/v2/changefeeds/{Escape(changefeedId)}", cancellationToken);

    /// <summary>DELETE /api/v2/changefeeds/{id}.</summary>
    public Task<CommandResultDto> RemoveChangefeedAsync(string changefeedId, CancellationToken cancellationToken = default) =>
        SendAsync<CommandResultDto>(HttpMethod.Delete, $"api/v2/changefeeds/{Escape(changefeedId)}", null, cancellationToken);

    /// <summary>GET /api/v2/changefeeds/{id}/tables.</summary>
    public Task<List<TableDto>> ListTablesAsync(string changefeedId, CancellationToken cancellationToken = default) =>
        GetAsync<List<TableDto>>($"api/v2/changefeeds/{Escape(changefeedId)}/tables", cancellationToken);

    /// <summary>GET /api/v2/changefeeds/{id}/tables/{table}.</summary>
    public Task<TableDto> GetTableAsync(string changefeedId, long tableId, CancellationToken cancellationToken = default) =>
        GetAsync<TableDto>($"api/v2/changefeeds/{Escape(changefeedId)}/tables/{tableId}", cancellationToken);

    /// <summary>GET /api/v2/changefeeds/{id}/tables/{table}/explain.</summary>
    public Task<ExplainDto> ExplainTableAsync(string changefeedId, long tableId, CancellationToken cancellationToken = default) =>
        GetAsync<ExplainDto>($"api/v2/changefeeds/{Escape(changefeedId)}/tables/{tableId}/explain", cancellationToken);

    /// <summary>POST /api/v2/changefeeds/{id}/tables/move_table.</summary>
    public Task<CommandResultDto> MoveTableAsync(string changefeedId, long tableId, string captureId, CancellationToken cancellationToken = default) =>
        SendAsync<CommandResultDto>(HttpMethod.Post, $"api/v2/changefeeds/{Escape(changefeedId)}/tables/move_table",
            new MoveTableRequest(captureId, tableId), cancellationToken);

    /// <summary>POST /api/v2/changefeeds/{id}/tables/rebalance_table.</summary>
    public Task<CommandResultDto> RebalanceAsync(string changefeedId, CancellationToken cancellationToken = default) =>
        SendAsync<CommandResultDto>(HttpMethod.Post, $"api/v2/changefeeds/{Escape(changefeedId)}/tables/rebalance_table", null, cancellationToken);

    /// <summary>GET /api/v2/changefeeds/{id}/rebalance_plan.</summary>
    public Task<RebalancePlanDto> PlanRebalanceAsync(string changefeedId, CancellationToken cancellationToken = default) =>
        GetAsync<RebalancePlanDto>($"api/v2/changefeeds/{Escape(changefeedId)}/rebalance_plan", cancellationToken);

    /// <inheritdoc/>
    public void Dispose()
    {
        if (_ownsClient)
        {
            _http.Dispose();
        }
    }

    private static string Escape(string segment) => Uri.EscapeDataString(segment);

    private Task<T> GetAsync<T>(string path, CancellationToken cancellationToken) => SendAsync<T>(HttpMethod.Get, path, null, cancellationToken);

    private async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, body.GetType(), options: CapstanJson.Options);
        }

        using var response = await _http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            throw await ErrorOfAsync(response, cancellationToken).ConfigureAwait(false);
        }

        return (await response.Content.ReadFromJsonAsync<T>(CapstanJson.Options, cancellationToken).ConfigureAwait(false))
            ?? throw new CapstanApiException(response.StatusCode, "Empty answer", $"{method} {path} returned no body");
    }

    private static async Task<CapstanApiException> ErrorOfAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        string text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var document = JsonDocument.Parse(text);
            var root = document.RootElement;
            string title = root.TryGetProperty("title", out var t) ? t.GetString() ?? string.Empty : response.ReasonPhrase ?? string.Empty;
            string detail = root.TryGetProperty("detail", out var d) ? d.GetString() ?? string.Empty : text;
            return new CapstanApiException(response.StatusCode, title, detail);
        }
        catch (JsonException)
        {
            return new CapstanApiException(response.StatusCode, response.ReasonPhrase ?? "Error", text.Length > 200 ? text[..200] : text);
        }
    }
}
