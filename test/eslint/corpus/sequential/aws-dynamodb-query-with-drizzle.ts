// expect: fix
// Mixed: a DynamoDB QueryCommand through ddb.send and a Drizzle select on Postgres are independent reads.
interface QueryInput {
  TableName: string
  KeyConditionExpression: string
  ExpressionAttributeValues: { [name: string]: { S: string } }
}
class QueryCommand { constructor(readonly input: QueryInput) {} }
interface Ddb { send(command: QueryCommand): Promise<{ Items?: { [k: string]: unknown }[] }> }
interface Db { select(): { from(table: { readonly name: string }): PromiseLike<{ sku: string }[]> } }

export async function cartPage(ddb: Ddb, db: Db, products: { readonly name: string }, cartId: string) {
  const cart = await ddb.send(
    new QueryCommand({
      TableName: 'carts',
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: cartId } },
    }),
  )
  const catalog = await db.select().from(products)
  return { items: cart.Items ?? [], catalog }
}
