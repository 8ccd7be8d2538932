namespace Capstan.Etcd;

using System.Text.Json;
using Capstan.Core.Model;
using Capstan.Runtime.Membership;
using Capstan.Runtime.Metadata;
using dotnet_etcd;
using Etcdserverpb;
using Google.Protobuf.Collections;
using Mvccpb;

/// <summary>
/// Changefeed metadata in etcd: definitions at <c>/{prefix}/changefeed/info/{id}</c> and statuses
/// at <c>/{prefix}/changefeed/status/{id}</c>, both JSON. A status write is one transaction that
/// requires the writer's owner key to still have the term's create revision (so a deposed owner
/// writes nothing) and the status key to be unchanged since it was read (so the checkpoint is
/// never lowered by a concurrent write); the latter is retried a few times.
/// </summary>
public sealed class EtcdMetadataStore : IMetadataStore
{
    private readonly EtcdOps _ops;
    private readonly EtcdKeys _keys;

    /// <summary>A store over <paramref name="client"/>; the caller keeps ownership of the client.</summary>
    public EtcdMetadataStore(EtcdClient client, EtcdClusterOptions options)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _ops = new EtcdOps(client, options);
        _keys = new EtcdKeys(options.ClusterPrefix);
    }

    /// <inheritdoc/>
    public async Task<IReadOnlyList<ChangefeedInfo>> ListChangefeedsAsync(CancellationToken cancellationToken)
    {
        var response = await _ops.GetPrefixAsync(_keys.ChangefeedInfoPrefix, cancellationToken).ConfigureAwait(false);
        var list = new List<ChangefeedInfo>(response.Kvs.Count);
        foreach (var kv in response.Kvs)
        {
            list.Add(DecodeInfo(kv));
        }

        return list;
    }

    /// <inheritdoc/>
    public async Task<ChangefeedInfo?> GetChangefeedAsync(ChangefeedId id, CancellationToken cancellationToken)
    {
        var response = await _ops.GetAsync(_keys.ChangefeedInfo(id), cancellationToken).ConfigureAwait(false);
        return response.Kvs.Count == 0 ? null : DecodeInfo(response.Kvs[0]);
    }

    /// <inheritdoc/>
    public async Task PutChangefeedAsync(ChangefeedInfo info, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(info);
        var tables = new long[info.Tables.Count];
        for (var i = 0; i < tables.Length; i++)
        {
            tables[i] = info.Tables[i].Value;
        }

        var json = JsonSerializer.Serialize(new InfoDocument(info.Id.Value, tables, info.StartTs.Value, info.Epoch.Value), EtcdJson.Options);
        var txn = new TxnRequest();
        txn.Success.Add(EtcdOps.Put(_keys.ChangefeedInfo(info.Id), json));
        await _ops.TxnAsync(txn, cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc/>
    public async Task<bool> RemoveChangefeedAsync(ChangefeedId id, CancellationToken cancellationToken)
    {
        var txn = new TxnRequest();
        txn.Success.Add(EtcdOps.Delete(_keys.ChangefeedInfo(id)));
        txn.Success.Add(EtcdOps.Delete(_keys.ChangefeedStatus(id)));
        var response = await _ops.TxnAsync(txn, cancellationToken).ConfigureAwait(false);
        return response.Responses[0].ResponseDeleteRange.Deleted > 0;
    }

    /// <inheritdoc/>
    public async Task<ChangefeedStatus?> GetStatusAsync(ChangefeedId id, CancellationToken cancellationToken)
    {
        var response = await _ops.GetAsync(_keys.ChangefeedStatus(id), cancellationToken).ConfigureAwait(false);
        return DecodeStatus(response.Kvs);
    }

    /// <inheritdoc/>
    public async Task<bool> TryPutStatusAsync(ChangefeedId id, ChangefeedStatus status, IOwnerLease owner, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(status);
        if (owner is not EtcdOwnerLease lease)
        {
            throw new ArgumentException("the owner lease must come from an EtcdOwnerElection", nameof(owner));
        }

        var key = _keys.ChangefeedStatus(id);
        var read = await _ops.GetAsync(key, cancellationToken).ConfigureAwait(false);
        var stored = read.Kvs;
        for (var attempt = 0; attempt < _ops.Options.MaxStatusWriteAttempts; attempt++)
        {
            var merged = ChangefeedStatus.Advance(DecodeStatus(stored), status);
            var txn = new TxnRequest();
            txn.Compare.Add(EtcdOps.CreateRevisionIs(lease.Key, lease.Revision.Value));
            txn.Compare.Add(EtcdOps.ModRevisionIs(key, stored.Count == 0 ? 0 : stored[0].ModRevision));
            txn.Success.Add(EtcdOps.Put(key, EncodeStatus(merged)));
            txn.Failure.Add(EtcdOps.Range(lease.Key));
            txn.Failure.Add(EtcdOps.Range(key));
            var response = await _ops.TxnAsync(txn, cancellationToken).ConfigureAwait(false);
            if (response.Succeeded)
            {
                return true;
            }

            var ownerKey = response.Responses[0].ResponseRange.Kvs;
            if (ownerKey.Count == 0 || ownerKey[0].CreateRevision != lease.Revision.Value)
            {
                return false;
            }

            stored = response.Responses[1].ResponseRange.Kvs;
        }

        throw new InvalidOperationException(
            $"the status of changefeed {id} changed under every one of {_ops.Options.MaxStatusWriteAttempts} write attempts");
    }

    private static ChangefeedInfo DecodeInfo(KeyValue kv)
    {
        var document = JsonSerializer.Deserialize<InfoDocument>(kv.Value.Span, EtcdJson.Options)
            ?? throw new InvalidDataException($"{kv.Key.ToStringUtf8()} holds no changefeed");
        var tables = new TableId[document.Tables?.Length ?? 0];
        for (var i = 0; i < tables.Length; i++)
        {
            tables[i] = new TableId(document.Tables![i]);
        }

        return new ChangefeedInfo
        {
            Id = new ChangefeedId(document.Id),
            Tables = tables,
            StartTs = new Ts(document.StartTs),
            Epoch = new ChangefeedEpoch(document.Epoch),
        };
    }

    private static ChangefeedStatus? DecodeStatus(RepeatedField<KeyValue> kvs)
    {
        if (kvs.Count == 0)
        {
            return null;
        }

        var document = JsonSerializer.Deserialize<StatusDocument>(kvs[0].Value.Span, EtcdJson.Options)
            ?? throw new InvalidDataException($"{kvs[0].Key.ToStringUtf8()} holds no status");
        return new ChangefeedStatus(new Ts(document.CheckpointTs), new Ts(document.ResolvedTs));
    }

    private static string EncodeStatus(ChangefeedStatus status) =>
        JsonSerializer.Serialize(new StatusDocument(status.CheckpointTs.Value, status.ResolvedTs.Value), EtcdJson.Options);

    private sealed record InfoDocument(string Id, long[]? Tables, ulong StartTs, ulong Epoch);

    private sealed record StatusDocument(ulong CheckpointTs, ulong ResolvedTs);
}
