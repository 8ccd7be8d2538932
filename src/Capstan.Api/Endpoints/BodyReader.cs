namespace Capstan.Api.Endpoints;

using System.Text.Json;
using Capstan.Api.Contracts;
using Microsoft.AspNetCore.Http;

/// <summary>Reads request bodies by hand so that every malformed body becomes a 400 with a useful message.</summary>
internal static class BodyReader
{
    /// <summary>The body, or null when it is larger than <paramref name="limit"/>. May be called more than once.</summary>
    public static async Task<byte[]?> ReadBytesAsync(HttpContext http, int limit)
    {
        http.Request.EnableBuffering(bufferThreshold: 64 * 1024, bufferLimit: limit);
        http.Request.Body.Position = 0;
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        while (true)
        {
            int read;
            try
            {
                read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted).ConfigureAwait(false);
            }
            catch (IOException)
            {
                return null;
            }

            if (read == 0)
            {
                break;
            }

            if (buffer.Length + read > limit)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        http.Request.Body.Position = 0;
        return buffer.ToArray();
    }

    /// <summary>Parses a JSON body; on failure returns a problem that shows the expected shape.</summary>
    public static async Task<(T? Value, IResult? Problem)> ReadJsonAsync<T>(HttpContext http, int limit, string example)
        where T : class
    {
        var bytes = await ReadBytesAsync(http, limit).ConfigureAwait(false);
        if (bytes is null)
        {
            return (null, Problems.BadRequest($"the request body is larger than {limit} bytes"));
        }

        if (bytes.Length == 0)
        {
            return (null, Problems.BadRequest($"a JSON body is required, e.g. {example}", "invalid-body"));
        }

        try
        {
            var value = JsonSerializer.Deserialize<T>(bytes, CapstanJson.Options);
            return value is null
                ? (null, Problems.BadRequest($"the body must be a JSON object, e.g. {example}", "invalid-body"))
                : (value, null);
        }
        catch (JsonException error)
        {
            string where = error.Path is { Length: > 0 } path ? $" at {path}" : string.Empty;
            return (null, Problems.BadRequest($"the body is not valid JSON for this request{where}; expected e.g. {example}", "invalid-body"));
        }
    }
}
