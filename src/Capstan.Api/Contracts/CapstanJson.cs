namespace Capstan.Api.Contracts;

using System.Text.Json;
using System.Text.Json.Serialization;

/// <summary>The wire format of the API: snake_case names, no nulls omitted, enums as strings.</summary>
public static class CapstanJson
{
    /// <summary>Options shared by the server, the CLI client and tests.</summary>
    public static JsonSerializerOptions Options { get; } = Configure(new JsonSerializerOptions(JsonSerializerDefaults.Web));

    /// <summary>The same options, indented (CLI output).</summary>
    public static JsonSerializerOptions Indented { get; } = new(Options) { WriteIndented = true };

    /// <summary>Applies the API's conventions to <paramref name="options"/> (used for ASP.NET Core's JSON options).</summary>
    public static JsonSerializerOptions Configure(JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower;
        options.DictionaryKeyPolicy = null;
        options.NumberHandling = JsonNumberHandling.Strict;
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower));
        return options;
    }
}
