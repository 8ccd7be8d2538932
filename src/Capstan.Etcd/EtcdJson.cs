namespace Capstan.Etcd;

using System.Text.Json;

/// <summary>How values are written to etcd: camelCase JSON, so etcdctl output stays readable.</summary>
internal static class EtcdJson
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web);
}
